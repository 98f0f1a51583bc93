"""Customers, their addresses and calling codes over HTTP: search, upsert by email then
phone, delete refused while orders refer to a customer, coordinates within bounds, the
/customer namespace, and the restaurant's scope."""

import pytest

from protocol import models

D = "Downtown"
ROW_KEYS = {"id", "name", "phone_code", "phone", "email", "addresses_count", "orders_count",
            "created_at"}
ADDRESS_KEYS = {"id", "customer_id", "label", "address", "lat", "lng"}




def other_restaurant(server):
    """A customer with an address in another restaurant of the node's database:
    (customer id, address id)."""
    def make():
        restaurant = models.Restaurant.create(name="Elsewhere", hash="elsewhere")
        customer = models.Customer.create(restaurant=restaurant, name="Stranger",
                                          phone="5550000", email="stranger@example.com")
        address = models.CustomerAddress.create(customer=customer, address="1 Far Road")
        return customer.id, address.id
    return server.node.store.call(make)


async def search(server, token, term=None, path="/pos/customers"):
    resp = await server.fetch("GET", path + ("?search=" + term if term is not None else ""),
                              token=token)
    assert resp.status == 200, resp
    return resp.body


async def save(server, token, path="/pos/customers", **body):
    body = {"name": "Guest", "phone_code": "+1", "phone": "2125550000", **body}
    return await server.fetch("POST", path, body, token=token)


async def test_search_matches_name_phone_and_email(edge, waiter, demo):
    [emily] = await search(edge, waiter, "emily")
    assert set(emily) == ROW_KEYS
    assert {k: emily[k] for k in ROW_KEYS - {"created_at"}} == {
        "id": demo["customers"]["Emily Carter"], "name": "Emily Carter", "phone_code": "1",
        "phone": "2125550198", "email": "emily.carter@example.com", "addresses_count": 2,
        "orders_count": 0}
    assert [c["name"] for c in await search(edge, waiter, "MEHTA")] == ["Rahul Mehta"]
    assert [c["name"] for c in await search(edge, waiter, "7185550177")] == ["Fatima Al-Sayed"]
    assert [c["name"] for c in await search(edge, waiter, "(917)%20555-0150")] == ["Tom Becker"]
    assert {c["name"] for c in await search(edge, waiter, "example.com")} == {
        "Emily Carter", "Rahul Mehta", "Fatima Al-Sayed"}
    assert await search(edge, waiter, "nobody-here") == []
    assert await search(edge, waiter, "%25%25") == []          # "%%" is text, not a wildcard


async def test_a_search_needs_two_characters(edge, waiter):
    resp = await edge.fetch("GET", "/pos/customers?search=e", token=waiter)
    assert resp.status == 422, resp
    assert resp.body["errors"] == {"search": ["The search field must be at least 2 characters."]}
    assert len(await search(edge, waiter, "%20%20")) == 4      # blank: no search


async def test_without_a_search_the_ten_newest_come_first(edge, waiter):
    made = []
    for n in range(12):
        resp = await save(edge, waiter, name="Guest %02d" % n, phone="21255510%02d" % n)
        assert resp.status == 200, resp
        made.append(resp.body["customer"]["id"])
    listed = await search(edge, waiter)
    assert [c["id"] for c in listed] == made[::-1][:10]
    assert len(await search(edge, waiter, "guest")) == 10


async def test_saving_creates_then_matches_by_email_then_phone(edge, waiter, demo):
    emily, rahul = demo["customers"]["Emily Carter"], demo["customers"]["Rahul Mehta"]
    created = await save(edge, waiter, name="Ada Lovelace", phone="2125550111",
                         email="ada@example.com")
    assert created.status == 200, created
    assert created.body["success"] is True and created.body["message"] == "Customer created."
    ada = created.body["customer"]
    assert set(ada) == ROW_KEYS and ada["email"] == "ada@example.com"

    # By email: Emily gets the new phone.
    resp = await save(edge, waiter, name="Emily C.", phone="6465550999",
                      email="Emily.Carter@Example.com")
    assert resp.body["message"] == "Customer updated.", resp
    assert resp.body["customer"]["id"] == emily
    assert (resp.body["customer"]["name"], resp.body["customer"]["phone"]) == (
        "Emily C.", "6465550999")
    # No email match: by phone, and Rahul gets the new email.
    resp = await save(edge, waiter, name="Rahul Mehta", phone="6465550123",
                      email="rahul@new.example.com")
    assert resp.body["customer"]["id"] == rahul
    assert resp.body["customer"]["email"] == "rahul@new.example.com"
    # Email first: Ada's email with Rahul's phone is Ada.
    resp = await save(edge, waiter, name="Ada Lovelace", phone="6465550123",
                      email="ada@example.com")
    assert resp.body["customer"]["id"] == ada["id"]
    # Numbers for a phone and its code are read as text.
    numbers = await save(edge, waiter, name="By Numbers", phone=2125550222, phone_code=44)
    assert numbers.status == 200, numbers
    assert (numbers.body["customer"]["phone"], numbers.body["customer"]["phone_code"]) == (
        "2125550222", "44")
    again = await save(edge, waiter, name="By Numbers", phone="2125550222", email="")
    assert again.body["message"] == "Customer updated."
    assert again.body["customer"]["id"] == numbers.body["customer"]["id"]
    assert len(await search(edge, waiter)) == 6


async def test_an_address_given_is_added_once(edge, waiter):
    first = await save(edge, waiter, email="ada@example.com", address="10 Downing Street")
    assert first.body["customer"]["addresses_count"] == 1, first
    again = await save(edge, waiter, email="ada@example.com", address="  10 DOWNING street ")
    assert again.body["customer"]["addresses_count"] == 1
    other = await save(edge, waiter, email="ada@example.com", address="221B Baker Street")
    assert other.body["customer"]["addresses_count"] == 2
    listed = await edge.fetch("GET", "/customer-addresses?customer_id=%d"
                              % other.body["customer"]["id"], token=waiter)
    assert [a["address"] for a in listed.body] == ["10 Downing Street", "221B Baker Street"]


async def test_customer_bodies_are_checked_per_field(edge, waiter):
    resp = await edge.fetch("POST", "/pos/customers", {"email": "nope", "name": "x" * 256,
                                                       "address": "y" * 501}, token=waiter)
    assert resp.status == 422, resp
    assert set(resp.body["errors"]) == {"name", "phone_code", "phone", "email", "address"}
    assert resp.body["errors"]["phone"] == ["The phone field is required."]
    resp = await save(edge, waiter, name="   ")
    assert resp.body["errors"] == {"name": ["The name field is required."]}


async def test_deleting_a_customer_with_orders_is_a_409(edge, waiter, demo):
    order = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "customer": {"name": "Ada Lovelace", "phone": "2125550111"},
        "items": [{"id": demo["items"][D]["Garlic Bread"]}]}, token=waiter)
    assert order.status == 201, order
    customer_id = order.body["order"]["customer_id"]
    [row] = await search(edge, waiter, "Lovelace")
    assert row["id"] == customer_id and row["orders_count"] == 1
    resp = await edge.fetch("DELETE", "/pos/customers/%d" % customer_id, token=waiter)
    assert resp.status == 409, resp
    assert resp.body["success"] is False and "1 order" in resp.body["message"]
    assert resp.body["orders_count"] == 1
    assert len(await search(edge, waiter, "Lovelace")) == 1


async def test_deleting_a_customer_takes_their_addresses(edge, waiter, demo):
    emily = demo["customers"]["Emily Carter"]
    resp = await edge.fetch("DELETE", "/pos/customers/%d" % emily, token=waiter)
    assert resp.status == 200, resp
    assert resp.body["success"] is True and "Emily Carter" in resp.body["message"]
    assert await search(edge, waiter, "emily") == []
    gone = await edge.fetch("GET", "/customer-addresses?customer_id=%d" % emily, token=waiter)
    assert gone.status == 404, gone
    # Tombstones, not rows gone: orders at other branches may refer to them.
    assert edge.node.store.call(lambda: [a.deleted_at is not None for a in
                                         models.CustomerAddress.select().where(
                                             models.CustomerAddress.customer == emily)]) \
        == [True, True]
    again = await edge.fetch("DELETE", "/pos/customers/%d" % emily, token=waiter)
    assert again.status == 404 and again.body["message"] == "Customer not found."
    for path in ("/pos/orders", "/customer/orders"):
        resp = await edge.fetch("POST", path, {
            "order_type": "pickup", "customer_id": emily,
            "items": [{"id": demo["items"][D]["Garlic Bread"]}]}, token=waiter)
        assert resp.status == 422 and "customer_id" in resp.body["errors"], (path, resp)


async def test_a_deleted_customer_comes_back_when_saved_again(edge, waiter, demo):
    """Matched by email or phone, the deleted customer revives (one record, their
    history); the addresses deleted with them stay deleted."""
    emily = demo["customers"]["Emily Carter"]
    assert (await edge.fetch("DELETE", "/pos/customers/%d" % emily, token=waiter)).status == 200
    resp = await save(edge, waiter, name="Emily Carter", email="Emily.Carter@example.com",
                      phone="2125550198")
    assert resp.status == 200 and resp.body["message"] == "Customer created.", resp
    assert (resp.body["customer"]["id"], resp.body["customer"]["addresses_count"]) == (emily, 0)
    [row] = await search(edge, waiter, "emily")
    assert row["id"] == emily
    again = await save(edge, waiter, name="Emily Carter", phone="2125550198")
    assert again.body["message"] == "Customer updated."


async def test_a_live_customer_is_matched_before_a_deleted_one(edge, waiter):
    """A deleted customer with the email does not beat a live one with the phone: the
    live one is updated, the deleted one stays deleted."""
    gone = (await save(edge, waiter, name="Gone", phone="2125550301",
                       email="gone@example.com")).body["customer"]
    assert (await edge.fetch("DELETE", "/pos/customers/%d" % gone["id"],
                             token=waiter)).status == 200
    here = (await save(edge, waiter, name="Here", phone="2125550302")).body["customer"]
    resp = await save(edge, waiter, name="Here", phone="2125550302", email="gone@example.com")
    assert resp.body["message"] == "Customer updated.", resp
    assert (resp.body["customer"]["id"], resp.body["customer"]["email"]) == (
        here["id"], "gone@example.com")
    assert [row["id"] for row in await search(edge, waiter, "gone")] == [here["id"]]


async def test_another_restaurants_customers_and_addresses_do_not_exist(edge, waiter):
    customer_id, address_id = other_restaurant(edge)
    assert await search(edge, waiter, "stranger") == []
    for method, path, body in (
            ("DELETE", "/pos/customers/%d" % customer_id, None),
            ("GET", "/customer-addresses?customer_id=%d" % customer_id, None),
            ("PUT", "/customer-addresses/%d" % address_id, {"label": "Mine"}),
            ("DELETE", "/customer-addresses/%d" % address_id, None)):
        resp = await edge.fetch(method, path, body, token=waiter)
        assert resp.status == 404, (method, path, resp)
        assert resp.body["success"] is False
    resp = await edge.fetch("POST", "/customer-addresses",
                            {"customer_id": customer_id, "address": "2 Near Road"}, token=waiter)
    assert resp.status == 422, resp
    assert resp.body["errors"] == {"customer_id": ["The selected customer id is invalid."]}
    # A matching email in another restaurant is another person.
    resp = await save(edge, waiter, name="Stranger", email="stranger@example.com")
    assert resp.body["message"] == "Customer created." and resp.body["customer"]["id"] != \
        customer_id


async def test_addresses_are_listed_created_updated_and_deleted(edge, waiter, demo):
    emily = demo["customers"]["Emily Carter"]
    resp = await edge.fetch("GET", "/customer-addresses?customer_id=%d" % emily, token=waiter)
    assert resp.status == 200, resp
    assert [set(a) for a in resp.body] == [ADDRESS_KEYS] * 2
    home = resp.body[0]
    assert (home["customer_id"], home["label"], home["lat"], home["lng"]) == (
        emily, "Home", 40.748962, -73.986447)

    made = await edge.fetch("POST", "/customer-addresses", {
        "customer_id": emily, "address": "350 Fifth Avenue", "label": "Gym",
        "lat": 40.7484405, "lng": "-73.9856644"}, token=waiter)
    assert made.status == 201, made
    assert made.body["success"] is True and set(made.body["data"]) == ADDRESS_KEYS
    address = made.body["data"]
    assert (address["lat"], address["lng"], address["label"]) == (40.7484405, -73.9856644, "Gym")
    bare = await edge.fetch("POST", "/customer-addresses",
                            {"customer_id": emily, "address": "No coordinates"}, token=waiter)
    assert bare.status == 201 and (bare.body["data"]["lat"], bare.body["data"]["lng"]) == (
        None, None)

    changed = await edge.fetch("PUT", "/customer-addresses/%d" % address["id"],
                               {"address": "350 5th Ave", "lat": -90, "lng": 180}, token=waiter)
    assert changed.status == 200, changed
    assert changed.body["success"] is True
    assert {k: changed.body["data"][k] for k in ("address", "label", "lat", "lng")} == {
        "address": "350 5th Ave", "label": "Gym", "lat": -90, "lng": 180}
    cleared = await edge.fetch("PUT", "/customer-addresses/%d" % address["id"],
                               {"lat": None, "lng": None}, token=waiter)
    assert (cleared.body["data"]["lat"], cleared.body["data"]["lng"]) == (None, None)
    assert cleared.body["data"]["address"] == "350 5th Ave"

    deleted = await edge.fetch("DELETE", "/customer-addresses/%d" % address["id"], token=waiter)
    assert deleted.status == 200 and deleted.body["success"] is True and deleted.body["message"]
    listed = await edge.fetch("GET", "/customer-addresses?customer_id=%d" % emily, token=waiter)
    assert address["id"] not in [a["id"] for a in listed.body] and len(listed.body) == 3
    again = await edge.fetch("DELETE", "/customer-addresses/%d" % address["id"], token=waiter)
    assert again.status == 404


@pytest.mark.parametrize("body, field", [
    ({"lat": 90.0000001}, "lat"), ({"lat": -91}, "lat"), ({"lat": "north"}, "lat"),
    ({"lng": 180.5}, "lng"), ({"lng": -180.0000001}, "lng"), ({"address": None}, "address"),
    ({"address": "x" * 501}, "address"), ({"address": "  "}, "address"),
    ({"customer_id": None}, "customer_id"), ({"label": "x" * 256}, "label"),
])
async def test_address_fields_are_bounded(edge, waiter, demo, body, field):
    valid = {"customer_id": demo["customers"]["Emily Carter"], "address": "1 Liberty Plaza"}
    resp = await edge.fetch("POST", "/customer-addresses", {**valid, **body}, token=waiter)
    assert resp.status == 422, resp
    assert list(resp.body["errors"]) == [field], resp
    if field in ("lat", "lng"):
        home = (await edge.fetch("GET", "/customer-addresses?customer_id=%d"
                                 % valid["customer_id"], token=waiter)).body[0]
        resp = await edge.fetch("PUT", "/customer-addresses/%d" % home["id"], body,
                                token=waiter)
        assert resp.status == 422 and list(resp.body["errors"]) == [field], resp


async def test_listing_addresses_needs_a_customer_id(edge, waiter):
    for query, message in (("", "The customer id field is required."),
                           ("?customer_id=abc", "The customer id field must be an integer."),
                           ("?customer_id=" + "9" * 30,
                            "The selected customer id is invalid.")):
        resp = await edge.fetch("GET", "/customer-addresses" + query, token=waiter)
        assert resp.status == 422, resp
        assert resp.body["errors"] == {"customer_id": [message]}


async def test_phone_codes_come_from_the_phonenumbers_metadata(edge, waiter):
    resp = await edge.fetch("GET", "/pos/phone-codes", token=waiter)
    assert resp.status == 200, resp
    codes = resp.body
    assert "+1" in codes and "+44" in codes and "+91" in codes and len(codes) > 200
    numbers = [int(c[1:]) for c in codes]
    assert all(c.startswith("+") for c in codes) and numbers == sorted(set(numbers))

    async def found(term):
        resp = await edge.fetch("GET", "/pos/phone-codes?search=" + term, token=waiter)
        assert resp.status == 200, resp
        return resp.body
    assert "+44" in await found("44") and all(c.startswith("+44") for c in await found("44"))
    assert await found("%2B44") == await found("44")
    assert await found("GB") == ["+44"] and await found("gb") == ["+44"]
    assert {"+1", "+44", "+971"} <= set(await found("united"))
    assert "+44" in await found("united%20kingdom") and "+1" not in await found("kingdom")
    assert await found("zzzz") == [] and await found("999999") == []


async def test_the_customer_namespace_serves_the_same_customers(edge, waiter, demo):
    assert await search(edge, waiter, "emily", path="/customer/customers") == \
        await search(edge, waiter, "emily")
    resp = await save(edge, waiter, path="/customer/customers", email="emily.carter@example.com",
                      name="Emily Carter", phone="2125550198")
    assert resp.status == 200 and resp.body["customer"]["id"] == demo["customers"]["Emily Carter"]


async def test_idempotency_key_adds_an_address_once(edge, waiter, demo):
    emily = demo["customers"]["Emily Carter"]
    body = {"customer_id": emily, "address": "1 Retry Lane"}
    headers = {"Idempotency-Key": "address-1"}
    first = await edge.fetch("POST", "/customer-addresses", body, token=waiter, headers=headers)
    again = await edge.fetch("POST", "/customer-addresses", body, token=waiter, headers=headers)
    assert first.status == again.status == 201 and first.body == again.body
    listed = await edge.fetch("GET", "/customer-addresses?customer_id=%d" % emily, token=waiter)
    assert [a["address"] for a in listed.body].count("1 Retry Lane") == 1


async def test_kitchen_staff_may_read_but_not_change_customers(edge, demo):
    chef = await edge.login("chef@demo.test")
    assert (await edge.fetch("GET", "/pos/customers", token=chef)).status == 200
    resp = await save(edge, chef)
    assert resp.status == 403 and "customers" in resp.body["message"], resp
    resp = await edge.fetch("DELETE", "/pos/customers/%d" % demo["customers"]["Tom Becker"],
                            token=chef)
    assert resp.status == 403, resp


@pytest.mark.parametrize("method, path", [
    ("GET", "/pos/customers"), ("POST", "/pos/customers"), ("DELETE", "/pos/customers/1"),
    ("GET", "/customer/customers"), ("POST", "/customer/customers"),
    ("GET", "/pos/phone-codes"), ("GET", "/customer-addresses?customer_id=1"),
    ("POST", "/customer-addresses"), ("PUT", "/customer-addresses/1"),
    ("DELETE", "/customer-addresses/1")])
async def test_customer_routes_need_a_token(edge, method, path):
    resp = await edge.fetch(method, path, {} if method in ("POST", "PUT") else None)
    assert resp.status == 401 and resp.body == {"message": "Unauthenticated."}

