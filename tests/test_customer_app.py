"""The customer app over HTTP: the catalog priced per order type, orders placed
via the app (pickup or delivery, for a named customer, managers notified) and a
customer's orders, scoped to the caller's restaurant and branch."""


from protocol import models

D = "Downtown"
EMILY = {"name": "Emily Carter", "phone": "2125550198"}
# Downtown (demo) is at 40.7087, -74.0128 and delivers within 6 km: 0-2 km 2.99,
# 2-4 km 4.99, 4-6 km 6.99, free from a sub-total of 75.00. 0.027 degrees of latitude
# north is 6371 km x 0.027 x pi / 180 = 3.002 km: the 4.99 tier.
THREE_KM = {"delivery_lat": 40.7357, "delivery_lng": -74.0128}




def item_lines(demo, **quantities):
    return [{"id": demo["items"][D][name.replace("_", " ")], "quantity": q}
            for name, q in quantities.items()]


async def app_order(server, token, body, status=201):
    resp = await server.fetch("POST", "/customer/orders", body, token=token)
    assert resp.status == status, resp
    return resp.body


async def catalog(server, token, order_type=None):
    resp = await server.fetch("GET", "/customer/catalog" +
                              ("?order_type=" + order_type if order_type else ""), token=token)
    assert resp.status == 200, resp
    return resp.body


def items_by_name(body):
    return {item["item_name"]: item for menu in body["menus"]
            for category in menu["categories"] for item in category["items"]}


async def test_the_catalog_nests_menus_categories_and_available_items(edge, waiter, demo):
    edge.node.store.call(lambda: models.MenuItem.update(is_available=False).where(
        models.MenuItem.id == demo["items"][D]["Onion Rings"]).execute())
    body = await catalog(edge, waiter)
    assert body["order_type"]["slug"] == "pickup"
    assert [m["name"] for m in body["menus"]] == ["All-Day Menu", "Bar & Beverages", "Desserts"]
    all_day = body["menus"][0]
    assert set(all_day) >= {"id", "name", "categories"}
    assert [c["category_name"] for c in all_day["categories"]] == [
        "Starters", "Mains", "Pizza & Pasta", "Salads & Sides"]
    assert set(all_day["categories"][0]) == {"id", "category_name", "sort_order", "items"}
    items = items_by_name(body)
    assert len(items) == 39 and "Onion Rings" not in items
    assert all(i["menu_id"] == m["id"] and i["item_category_id"] == c["id"]
               for m in body["menus"] for c in m["categories"] for i in c["items"])


async def test_catalog_prices_follow_the_order_type(edge, waiter, demo):
    pickup = items_by_name(await catalog(edge, waiter))
    delivery = items_by_name(await catalog(edge, waiter, "delivery"))
    for name in ("Garlic Bread", "Margherita Pizza"):
        for order_type, shown in (("pickup", pickup), ("delivery", delivery)):
            resp = await edge.fetch("GET", "/pos/items/%d?order_type=%s"
                                    % (demo["items"][D][name], order_type), token=waiter)
            pos = resp.body
            assert shown[name]["price"] == pos["price_for_order_type"]
            assert shown[name]["base_price"] == pos["price"]
            assert [v["price"] for v in shown[name]["variations"]] == \
                [v["price"] for v in pos["variations"]]
    assert pickup["Garlic Bread"]["price"] < 6.5 < delivery["Garlic Bread"]["price"]
    refused = await edge.fetch("GET", "/customer/catalog?order_type=dine_in", token=waiter)
    assert refused.status == 422 and "order_type" in refused.body["errors"]
    unknown = await edge.fetch("GET", "/customer/catalog?order_type=teleport", token=waiter)
    assert unknown.status == 422 and "order_type" in unknown.body["errors"]


async def test_an_app_order_is_placed_via_app_and_managers_are_notified(edge, waiter, demo):
    body = await app_order(edge, waiter, {"order_type": "delivery", "customer": EMILY,
                                          "delivery_address": "22 W 34th Street",
                                          "items": item_lines(demo, Garlic_Bread=2),
                                          **THREE_KM})
    order = body["order"]
    assert body["success"] is True
    assert order["placed_via"] == "app" and order["order_type"] == "Delivery"
    assert order["customer_id"] == demo["customers"]["Emily Carter"]
    delivery_price = items_by_name(await catalog(edge, waiter, "delivery"))["Garlic Bread"]
    assert order["items"][0]["price"] == delivery_price["price"]

    for email in ("manager@demo.test", "owner@demo.test"):
        token = await edge.login(email)
        notes = (await edge.fetch("GET", "/pos/notifications", token=token)).body
        [note] = notes["data"]
        assert note["type"] == "new_online_order"
        assert order["formatted_order_number"] in note["title"]
        assert "Emily Carter" in note["body"]
        assert note["data"]["data"]["order_id"] == order["id"]
    for email in ("waiter@demo.test", "chef@demo.test"):
        notes = (await edge.fetch("GET", "/pos/notifications",
                                  token=await edge.login(email))).body
        assert notes["total"] == 0, email


async def test_the_app_defaults_to_pickup_and_a_retry_notifies_once(edge, waiter, demo):
    body = {"customer_id": demo["customers"]["Rahul Mehta"], "uuid": "app-order-1",
            "items": item_lines(demo, Espresso=1)}
    first = await app_order(edge, waiter, body)
    assert first["order"]["order_type"] == "Pickup"
    again = await app_order(edge, waiter, body)
    assert again["order"]["id"] == first["order"]["id"]
    manager = await edge.login("manager@demo.test")
    notes = (await edge.fetch("GET", "/pos/notifications", token=manager)).body
    assert notes["total"] == 1


async def test_dine_in_and_orders_without_a_customer_are_refused(edge, waiter, demo):
    items = item_lines(demo, Espresso=1)
    dine_in = await app_order(edge, waiter, {"order_type": "Dine In", "customer": EMILY,
                                             "items": items}, status=422)
    assert list(dine_in["errors"]) == ["order_type"]
    nobody = await app_order(edge, waiter, {"items": items}, status=422)
    assert list(nobody["errors"]) == ["customer_id"]
    no_phone = await app_order(edge, waiter, {"customer": {"name": "Walk In"}, "items": items},
                               status=422)
    assert no_phone["errors"] == {"customer.phone": ["The customer.phone field is required."]}
    empty = await app_order(edge, waiter, {"customer": EMILY, "items": []}, status=422)
    assert "items" in empty["errors"]
    count = edge.node.store.call(lambda: models.Order.select().count())
    assert count == 0


async def test_a_customers_orders_are_theirs_only(edge, waiter, demo):
    emily, rahul = demo["customers"]["Emily Carter"], demo["customers"]["Rahul Mehta"]
    mine = [(await app_order(edge, waiter, {"customer_id": emily,
                                            "items": item_lines(demo, Espresso=n)}))["order"]["id"]
            for n in (1, 2)]
    await app_order(edge, waiter, {"customer_id": rahul, "items": item_lines(demo, Espresso=1)})
    resp = await edge.fetch("GET", "/customer/orders?customer_id=%d" % emily, token=waiter)
    assert resp.status == 200, resp
    page = resp.body
    assert page["total"] == 2 and page["current_page"] == 1 and page["per_page"] == 20
    assert {o["id"] for o in page["data"]} == set(mine)
    assert all(o["customer_id"] == emily and o["placed_via"] == "app" for o in page["data"])

    missing = await edge.fetch("GET", "/customer/orders", token=waiter)
    assert missing.status == 422
    assert missing.body["errors"] == {"customer_id": ["The customer id field is required."]}

    def other_tenants_customer():
        restaurant = models.Restaurant.create(name="Other Diner", hash="other-diner")
        return models.Customer.create(restaurant=restaurant, name="Eve", phone="5550000").id
    eve = edge.node.store.call(other_tenants_customer)
    resp = await edge.fetch("GET", "/customer/orders?customer_id=%d" % eve, token=waiter)
    assert resp.status == 404 and resp.body["success"] is False


async def test_another_branchs_orders_stay_there(cloud, demo):
    emily = demo["customers"]["Emily Carter"]
    downtown = await cloud.login("waiter@demo.test")
    airport = await cloud.login("airport.waiter@demo.test")
    await app_order(cloud, downtown, {"customer_id": emily,
                                      "items": item_lines(demo, Espresso=1)})
    resp = await cloud.fetch("GET", "/customer/orders?customer_id=%d" % emily, token=airport)
    assert resp.status == 200 and resp.body["total"] == 0


async def test_customer_app_routes_need_a_token(edge):
    for method, path in [("GET", "/customer/catalog"), ("GET", "/customer/orders?customer_id=1"),
                         ("POST", "/customer/orders")]:
        resp = await edge.fetch(method, path, {} if method == "POST" else None)
        assert resp.status == 401 and resp.body == {"message": "Unauthenticated."}, path


async def test_a_delivery_carries_the_fee_the_server_computes(edge, waiter, demo):
    # 2 x Garlic Bread at the delivery price (6.50 x 1.10 = 7.15): 14.30, under 75.00
    body = await app_order(edge, waiter, {"order_type": "delivery", "customer": EMILY,
                                          "delivery_fee": 0.5,      # the app's, not used
                                          "items": item_lines(demo, Garlic_Bread=2),
                                          **THREE_KM})
    money = body["order"]["financials"]
    assert (money["sub_total"], money["delivery_fee"]) == (14.30, 4.99), money
    assert money["total"] == round(money["sub_total"] + money["tax_total"] +
                                   money["charges_total"] + 4.99, 2)
    # 3 x Ribeye Steak (32.00 x 1.10 = 35.20): 105.60, free from 75.00
    free = (await app_order(edge, waiter, {"order_type": "delivery", "customer": EMILY,
                                           "items": item_lines(demo, Ribeye_Steak=3),
                                           **THREE_KM}))["order"]["financials"]
    assert (free["sub_total"], free["delivery_fee"]) == (105.60, 0)
    # 0.06 degrees north is 6.672 km: beyond the 6 km radius
    far = await app_order(edge, waiter, {"order_type": "delivery", "customer": EMILY,
                                         "items": item_lines(demo, Garlic_Bread=1),
                                         "delivery_lat": 40.7687, "delivery_lng": -74.0128},
                          status=422)
    assert "outside the delivery area" in far["message"]
    nowhere = await app_order(edge, waiter, {"order_type": "delivery", "customer": EMILY,
                                             "items": item_lines(demo, Garlic_Bread=1)},
                              status=422)
    assert list(nowhere["errors"]) == ["delivery_lat"]
    # a pickup carries no fee whatever the app sends
    pickup = await app_order(edge, waiter, {"customer": EMILY, "delivery_fee": 3,
                                            "items": item_lines(demo, Espresso=1)})
    assert pickup["order"]["financials"]["delivery_fee"] == 0
    count = edge.node.store.call(lambda: models.Order.select().count())
    assert count == 3
