"""Dispatch at the branch (PUT /pos/orders/{id}/assign-delivery, PUT .../delivery-status,
GET /pos/delivery-orders; protocol/dispatch.py): assignment all or nothing, busy and
inactive riders refused, a race of two dispatchers, the delivery's transitions, the
rider freed at the end, and the list's filters. At the Downtown edge, as a till on the
LAN does it during an outage."""

import asyncio

from protocol import models

D = "Downtown"
RIDERS = "/pos/delivery-executives"


async def new_order(server, token, demo, order_type="delivery", **extra):
    resp = await server.fetch("POST", "/pos/orders", dict({
        "order_type": order_type, "items": [{"id": demo["items"][D]["Espresso"]}],
        "delivery_address": "22 W 34th Street"}, **extra), token=token)
    assert resp.status == 201, resp
    return resp.body["order"]["id"]


async def assign(server, token, order_id, rider, **extra):
    return await server.fetch("PUT", "/pos/orders/%d/assign-delivery" % order_id,
                              dict({"delivery_executive_id": rider}, **extra), token=token)


async def move(server, token, order_id, status):
    return await server.fetch("PUT", "/pos/orders/%d/delivery-status" % order_id,
                              {"status": status}, token=token)


async def statuses(server, token):
    rows = (await server.fetch("GET", RIDERS, token=token)).body
    return {r["name"]: r["status"] for r in rows}


async def test_assigning_moves_riders_all_or_nothing(edge, demo):
    manager = await edge.login("manager@demo.test")
    marcus, priya = (demo["delivery_executives"][D][n] for n in ("Marcus Reed", "Priya Nair"))
    uber = demo["delivery_platforms"][D]["UberEats"]
    first = await new_order(edge, manager, demo)
    done = await assign(edge, manager, first, marcus, delivery_app_id=uber)
    assert done.status == 200, done
    assert done.body == {"success": True, "message": "Delivery assignment updated successfully",
                         "data": {"order_id": first, "delivery_executive_id": marcus,
                                  "delivery_app_id": uber}}
    assert await statuses(edge, manager) == {"Marcus Reed": "on_delivery",
                                             "Priya Nair": "available"}
    again = await assign(edge, manager, first, marcus)          # a retry: the same
    assert again.status == 200, again

    # Marcus is busy with the first order: a second order cannot have him.
    second = await new_order(edge, manager, demo)
    busy = await assign(edge, manager, second, marcus)
    assert busy.status == 409 and "Marcus Reed is on another delivery" in busy.body["message"]

    # Giving the first order to Priya frees Marcus.
    swapped = await assign(edge, manager, first, priya)
    assert swapped.status == 200, swapped
    assert await statuses(edge, manager) == {"Marcus Reed": "available",
                                             "Priya Nair": "on_delivery"}

    # All or nothing: an unknown platform leaves the order and the riders as they were.
    failed = await assign(edge, manager, second, marcus, delivery_app_id=123456789)
    assert failed.status == 404 and failed.body["message"] == "Delivery platform not found"
    assert await statuses(edge, manager) == {"Marcus Reed": "available",
                                             "Priya Nair": "on_delivery"}
    order = edge.node.store.call(lambda: models.Order.get_by_id(second))
    assert (order.delivery_executive_id, order.delivery_app_id) == (None, None)

    # An inactive rider, a pickup order, another branch's rider, a waiter.
    await edge.fetch("PUT", "%s/%d/status" % (RIDERS, marcus), {"status": "inactive"},
                     token=manager)
    inactive = await assign(edge, manager, second, marcus)
    assert inactive.status == 409 and "inactive" in inactive.body["message"], inactive
    pickup = await new_order(edge, manager, demo, order_type="pickup")
    not_delivery = await assign(edge, manager, pickup, priya)
    assert not_delivery.status == 409 and "not a delivery" in not_delivery.body["message"]
    airport = demo["delivery_executives"]["Airport"]["Luis Ortega"]
    elsewhere = await assign(edge, manager, second, airport)
    assert elsewhere.status == 404, elsewhere
    waiter = await edge.login("waiter@demo.test")
    refused = await assign(edge, waiter, second, priya)
    assert refused.status == 403, refused
    # Taking the rider off frees them.
    off = await assign(edge, manager, first, None)
    assert off.status == 200 and off.body["data"]["delivery_executive_id"] is None
    assert (await statuses(edge, manager))["Priya Nair"] == "available"


async def test_two_dispatchers_assigning_one_rider_at_once_one_gets_409(edge, demo):
    marcus = demo["delivery_executives"][D]["Marcus Reed"]
    one, two = await edge.login("manager@demo.test"), await edge.login("owner@demo.test")
    for _ in range(3):
        a, b = await new_order(edge, one, demo), await new_order(edge, two, demo)
        answers = await asyncio.gather(assign(edge, one, a, marcus), assign(edge, two, b, marcus))
        assert sorted(r.status for r in answers) == [200, 409], answers
        winner = a if answers[0].status == 200 else b
        loser = b if winner == a else a
        rows = edge.node.store.call(lambda: {
            o.id: o.delivery_executive_id for o in models.Order.select().where(
                models.Order.id.in_([a, b]))})
        assert rows == {winner: marcus, loser: None}
        state = edge.node.store.call(lambda: models.RiderState.get(
            models.RiderState.delivery_executive == marcus))
        assert (state.status, state.order_id) == ("on_delivery", winner)
        await assign(edge, one, winner, None)                    # free him for the next round


async def test_a_delivery_moves_by_the_table_and_frees_its_rider(edge, demo):
    manager = await edge.login("manager@demo.test")
    priya = demo["delivery_executives"][D]["Priya Nair"]
    order = await new_order(edge, manager, demo)
    skipped = await move(edge, manager, order, "delivered")
    assert skipped.status == 409 and skipped.body["allowed"] == ["preparing"], skipped
    for status in ("preparing", "ready_for_pickup"):
        resp = await move(edge, manager, order, status)
        assert resp.status == 200 and resp.body["data"]["order_status"] == status, resp
    nobody = await move(edge, manager, order, "out_for_delivery")
    assert nobody.status == 409 and "Assign a rider" in nobody.body["message"]
    await assign(edge, manager, order, priya)
    out = await move(edge, manager, order, "out_for_delivery")
    assert out.body == {"success": True, "message": "Delivery status updated successfully",
                        "data": {"order_id": order, "order_status": "out_for_delivery",
                                 "delivery_executive_id": priya}}
    repeat = await move(edge, manager, order, "out_for_delivery")     # a retry
    assert repeat.status == 200, repeat
    failed = await move(edge, manager, order, "failed")               # the module 500s
    assert failed.status == 200 and failed.body["data"]["order_status"] == "failed", failed
    assert (await statuses(edge, manager))["Priya Nair"] == "available"
    late = await move(edge, manager, order, "delivered")
    assert late.status == 409, late
    shown = await edge.fetch("GET", "/pos/orders/%d" % order, token=manager)
    assert shown.status == 200 and shown.body["order_status"] == "failed", shown
    for body in ({"status": "lost"}, {"status": "Delivered"}, {}):
        bad = await edge.fetch("PUT", "/pos/orders/%d/delivery-status" % order, body,
                               token=manager)
        assert bad.status == 422 and "status" in bad.body["errors"], bad
    pickup = await new_order(edge, manager, demo, order_type="pickup")
    assert (await move(edge, manager, pickup, "preparing")).status == 409


async def test_the_branchs_delivery_orders_and_their_filters(edge, demo):
    manager = await edge.login("manager@demo.test")
    marcus, priya = (demo["delivery_executives"][D][n] for n in ("Marcus Reed", "Priya Nair"))
    doordash = demo["delivery_platforms"][D]["DoorDash"]
    paid = await new_order(edge, manager, demo)
    order = (await edge.fetch("GET", "/pos/orders/%d" % paid, token=manager)).body
    pay = await edge.fetch("POST", "/pos/orders/%d/pay" % paid,
                           {"method": "card", "amount": order["total"]}, token=manager)
    assert pay.status in (200, 201), pay
    await assign(edge, manager, paid, marcus)
    for status in ("preparing", "ready_for_pickup", "out_for_delivery", "delivered"):
        assert (await move(edge, manager, paid, status)).status == 200
    other = await new_order(edge, manager, demo)
    await assign(edge, manager, other, priya, delivery_app_id=doordash)
    await new_order(edge, manager, demo, order_type="pickup")

    listed = await edge.fetch("GET", "/pos/delivery-orders", token=manager)
    assert listed.status == 200, listed
    assert [o["id"] for o in listed.body["data"]] == [other, paid]     # newest first
    assert listed.body["meta"] == {"total": 2, "offset": 0, "limit": 50}
    [done] = [o for o in listed.body["data"] if o["id"] == paid]
    assert (done["status"], done["payment_status"], done["items_count"]) == (
        "delivered", "paid", 1)
    assert done["delivery_executive"]["status"] == "available"
    [out] = [o for o in listed.body["data"] if o["id"] == other]
    assert (out["delivery_executive"]["name"], out["delivery_executive"]["status"],
            out["delivery_app_id"]) == ("Priya Nair", "on_delivery", doordash)

    async def ids(query):
        resp = await edge.fetch("GET", "/pos/delivery-orders?" + query, token=manager)
        assert resp.status == 200, resp
        return [o["id"] for o in resp.body["data"]]
    assert await ids("status=delivered") == [paid]
    assert await ids("delivery_executive_id=%d" % priya) == [other]
    assert await ids("delivery_app_id=%d" % doordash) == [other]
    assert await ids("limit=1&offset=1") == [paid]
    assert await ids("date=2020-01-01") == []
    for query in ("limit=0", "limit=101", "date=yesterday", "offset=-1"):
        bad = await edge.fetch("GET", "/pos/delivery-orders?" + query, token=manager)
        assert bad.status == 422, (query, bad)


async def test_cancelling_or_delivering_through_the_pos_frees_the_rider(edge, demo):
    manager = await edge.login("manager@demo.test")
    marcus, priya = (demo["delivery_executives"][D][n] for n in ("Marcus Reed", "Priya Nair"))
    cancelled, delivered = await new_order(edge, manager, demo), await new_order(edge, manager,
                                                                                demo)
    await assign(edge, manager, cancelled, marcus)
    await assign(edge, manager, delivered, priya)
    assert await statuses(edge, manager) == {"Marcus Reed": "on_delivery",
                                             "Priya Nair": "on_delivery"}
    cancel = await edge.fetch("POST", "/pos/orders/%d/status" % cancelled,
                              {"status": "cancelled"}, token=manager)
    assert cancel.status == 200, cancel
    done = await edge.fetch("POST", "/pos/orders/%d/status" % delivered,
                            {"status": "delivered"}, token=manager)
    assert done.status == 200, done
    assert await statuses(edge, manager) == {"Marcus Reed": "available",
                                             "Priya Nair": "available"}
    again = await assign(edge, manager, cancelled, priya)
    assert again.status == 409 and "cannot change" in again.body["message"], again
