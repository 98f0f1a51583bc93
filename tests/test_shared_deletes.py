"""Deleting shared data never detaches or loses another branch's records: a customer
deleted at the Airport, who has an order at Downtown that the Airport cannot see,
becomes a tombstone everywhere; Downtown's order keeps them (real cloud, two real
enrolled edges)."""

import pytest

from protocol import models
from test_sync import enroll_box, eventually, new_code

D, A = "Downtown", "Airport"


@pytest.fixture
async def branches(start_node, tmp_path, demo):
    """(cloud, Downtown edge, Airport edge), both enrolled and syncing, each with
    ``token``: a waiter's there (the owner's at the cloud)."""
    cloud = await start_node("cloud")
    for branch in (D, A):
        await enroll_box(cloud, tmp_path, branch, new_code(cloud, demo["branches"][branch]))
    downtown = await start_node("edge", D, name=D, sync=True)
    airport = await start_node("edge", A, name=A, sync=True)
    for server, login in ((cloud, "owner"), (downtown, "waiter"), (airport, "airport.waiter")):
        server.token = await server.login(login + "@demo.test")
    return cloud, downtown, airport


async def downtown_order(branches, demo, **fields):
    """The id of an order placed at Downtown, once it has reached the cloud."""
    cloud, downtown, _ = branches
    placed = await downtown.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}], **fields},
        token=downtown.token)
    assert placed.status == 201, placed
    order_id = placed.body["order"]["id"]
    await eventually(lambda: cloud.node.store.call(
        lambda: models.Order.get_or_none(models.Order.id == order_id)), 3.0)
    return order_id


async def names_found(server, token, term):
    resp = await server.fetch("GET", "/pos/customers?search=" + term, token=token)
    assert resp.status == 200, resp
    return [(c["id"], c["name"], c["orders_count"]) for c in resp.body]


async def order_customer(server, token, order_id):
    resp = await server.fetch("GET", "/pos/orders/%d" % order_id, token=token)
    assert resp.status == 200, resp
    return resp.body["customer_id"], resp.body["customer"]


async def test_a_customer_deleted_at_one_branch_keeps_their_orders_at_another(
        branches, demo):
    cloud, downtown, airport = branches
    waiter, at_airport, owner = downtown.token, airport.token, cloud.token
    tom = demo["customers"]["Tom Becker"]
    assert await names_found(airport, at_airport, "Becker") == [(tom, "Tom Becker", 0)]

    order_id = await downtown_order(branches, demo, customer_id=tom)
    shown = await order_customer(downtown, waiter, order_id)
    assert shown[0] == tom and (shown[1]["name"], shown[1]["phone"]) == ("Tom Becker",
                                                                         "9175550150")

    # Where the order can be seen, the delete is refused as before.
    refused = await downtown.fetch("DELETE", "/pos/customers/%d" % tom, token=waiter)
    assert refused.status == 409 and refused.body["orders_count"] == 1, refused

    # The Airport cannot see it: its delete goes through, as before...
    deleted = await airport.fetch("DELETE", "/pos/customers/%d" % tom, token=at_airport)
    assert deleted.status == 200 and deleted.body == {
        "success": True, "message": "Customer Tom Becker deleted."}
    assert await names_found(airport, at_airport, "Becker") == []

    # ...and reaches Downtown and the cloud as a tombstone: hidden from every search,
    # while Downtown's order still has its customer, at Downtown and at head office.
    async def hidden_at_downtown():
        return await names_found(downtown, waiter, "Becker") == []
    await eventually(hidden_at_downtown, 5.0)
    for server, token in ((downtown, waiter), (cloud, owner)):
        assert await order_customer(server, token, order_id) == shown
        assert server.node.store.call(lambda: models.Customer.get_by_id(tom).deleted_at)
    assert await names_found(cloud, owner, "Becker") == []
    gone = await downtown.fetch("DELETE", "/pos/customers/%d" % tom, token=waiter)
    assert gone.status == 404, gone

    # A new order by the same phone at the Airport revives the one customer (the
    # revival is later than the delete, so it wins everywhere), with their history.
    again = await airport.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "customer": {"name": "Tom Becker", "phone": "9175550150"},
        "items": [{"id": demo["items"][A]["Espresso"]}]}, token=at_airport)
    assert again.status == 201, again
    assert again.body["order"]["customer_id"] == tom
    assert await names_found(airport, at_airport, "Becker") == [(tom, "Tom Becker", 1)]

    async def back_at_downtown():
        return await names_found(downtown, waiter, "Becker") == [(tom, "Tom Becker", 1)]
    await eventually(back_at_downtown, 5.0)
    await eventually(lambda: cloud.node.store.call(
        lambda: models.Customer.get_by_id(tom).deleted_at) is None, 3.0)
    assert await order_customer(downtown, waiter, order_id) == shown


async def test_an_address_deleted_at_one_branch_stays_on_the_orders_sent_there(
        branches, demo):
    cloud, downtown, airport = branches
    waiter, at_airport = downtown.token, airport.token
    emily = demo["customers"]["Emily Carter"]
    listed = await airport.fetch("GET", "/customer-addresses?customer_id=%d" % emily,
                                 token=at_airport)
    home = listed.body[0]
    order_id = await downtown_order(branches, demo, order_type="delivery", customer_id=emily,
                                    customer_address_id=home["id"])

    deleted = await airport.fetch("DELETE", "/customer-addresses/%d" % home["id"],
                                  token=at_airport)
    assert deleted.status == 200, deleted

    async def hidden_at_downtown():
        resp = await downtown.fetch("GET", "/customer-addresses?customer_id=%d" % emily,
                                    token=waiter)
        return home["id"] not in [a["id"] for a in resp.body]
    await eventually(hidden_at_downtown, 5.0)
    for server in (downtown, cloud):
        order = server.node.store.call(lambda: models.Order.get_by_id(order_id))
        assert order.customer_address_id == home["id"] and order.customer_id == emily
    # A deleted address is no longer one an order can be sent to.
    refused = await downtown.fetch("POST", "/pos/orders", {
        "order_type": "delivery", "customer_id": emily, "customer_address_id": home["id"],
        "items": [{"id": demo["items"][D]["Espresso"]}]}, token=waiter)
    assert refused.status == 422 and "customer_address_id" in refused.body["errors"]
