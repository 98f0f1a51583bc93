"""The kitchen over HTTP: KOTs per station, token numbers, sending only what is new,
the kitchen display, bumping items, cancelling (off the bill), branch scoping."""

import datetime
import time
import zoneinfo

import pytest

from protocol import models
from protocol.clock import FakeClock

D = "Downtown"




@pytest.fixture
async def chef(edge):
    return await edge.login("chef@demo.test")


def lines(demo, branch=D, **quantities):
    """Order items by demo item name: lines(demo, Espresso=2)."""
    return [{"id": demo["items"][branch][name.replace("_", " ")], "quantity": q}
            for name, q in quantities.items()]


async def kot_order(server, token, items, **extra):
    body = {"order_type": "pickup", "items": items, "actions": ["kot"], **extra}
    resp = await server.fetch("POST", "/pos/orders", body, token=token)
    assert resp.status == 201, resp
    return resp.body


async def order_kots(server, token, order_id):
    resp = await server.fetch("GET", "/pos/orders/%d/kots" % order_id, token=token)
    assert resp.status == 200, resp
    return resp.body


async def grand_total(server, token, order_id):
    resp = await server.fetch("GET", "/pos/orders/%d" % order_id, token=token)
    assert resp.status == 200, resp
    return resp.body["cart"]["summary"]["grand_total"]


async def test_one_kot_per_station_and_the_kitchen_display_filters(edge, waiter, chef, demo):
    created = await kot_order(edge, waiter, lines(demo, Garlic_Bread=2, Espresso=1),
                              order_type="dine_in", table_id=demo["tables"][D]["T1"])
    order = created["order"]
    body = await order_kots(edge, waiter, order["id"])
    assert body["success"] is True
    assert body["meta"] == {"order_id": order["id"],
                            "order_number": order["formatted_order_number"], "total_kots": 2}
    kots = body["data"]
    assert sorted(k["id"] for k in kots) == sorted(created["kot_ids"])
    assert [k["kitchen_place"] for k in kots] == ["Kitchen", "Bar"]
    assert kots[1]["kot_number"] == kots[0]["kot_number"] + 1
    kitchen, bar = kots
    assert kitchen["kitchen_place_id"] == demo["kot_places"][D]["Kitchen"]
    assert kitchen["status"] == "in_kitchen" and kitchen["token_number"] is None
    [bread] = kitchen["items"]
    assert (bread["name"], bread["quantity"], bread["status"], bread["variation"],
            bread["modifiers"]) == ("Garlic Bread", 2, "pending", None, [])
    assert bread["menu_item_id"] == demo["items"][D]["Garlic Bread"]
    assert [i["name"] for i in bar["items"]] == ["Espresso"]

    bar_id = demo["kot_places"][D]["Bar"]
    shown = await edge.fetch("GET", "/pos/kots?kitchen_place_id=%d" % bar_id, token=chef)
    assert shown.status == 200, shown
    assert [k["id"] for k in shown.body["data"]] == [bar["id"]]
    row = shown.body["data"][0]
    assert (row["order_id"], row["order_number"], row["order_type"], row["table_name"],
            row["items_count"]) == (order["id"], order["formatted_order_number"], "Dine In",
                                    "T1", 1)
    assert shown.body["meta"] == {"total": 1, "offset": 0, "limit": 50}

    everything = await edge.fetch("GET", "/pos/kots?status=in_kitchen", token=chef)
    assert [k["id"] for k in everything.body["data"]] == [kitchen["id"], bar["id"]]
    ready = await edge.fetch("GET", "/pos/kots?status=food_ready", token=chef)
    assert ready.body["data"] == [] and ready.body["meta"]["total"] == 0
    paged = await edge.fetch("GET", "/pos/kots?limit=1&offset=1", token=chef)
    assert [k["id"] for k in paged.body["data"]] == [bar["id"]]
    assert paged.body["meta"] == {"total": 2, "offset": 1, "limit": 1}


async def test_kot_items_show_the_variation_and_modifiers_ordered(edge, waiter, demo):
    def catalog():
        pizza = models.MenuItem.get((models.MenuItem.item_name == "Margherita Pizza") &
                                    (models.MenuItem.branch == edge.node.branch_id))
        burger = models.MenuItem.get((models.MenuItem.item_name == "Classic Cheeseburger") &
                                     (models.MenuItem.branch == edge.node.branch_id))
        options = {o.name: o.id for link in burger.item_modifiers
                   for o in link.modifier_group.options}
        return pizza.id, {v.variation: v.id for v in pizza.variations}, burger.id, options
    pizza, sizes, burger, options = edge.node.store.call(catalog)
    created = await kot_order(edge, waiter, [
        {"id": pizza, "quantity": 1, "variation_id": sizes['Large 14"']},
        {"id": burger, "quantity": 2, "modifiers": [{"id": options["Bacon"]},
                                                    {"id": options["Medium rare"]}]}])
    [kot] = (await order_kots(edge, waiter, created["order"]["id"]))["data"]
    shown = [(i["name"], i["variation"], i["quantity"], i["modifiers"]) for i in kot["items"]]
    assert shown == [
        ('Margherita Pizza (Large 14")', 'Large 14"', 1, []),
        ("Classic Cheeseburger", None, 2, [{"id": options["Bacon"], "name": "Bacon"},
                                           {"id": options["Medium rare"], "name": "Medium rare"}])]
    one = (await edge.fetch("GET", "/pos/kots/%d" % kot["id"], token=waiter)).body["data"]
    assert one["items"][1]["modifiers"][0]["price"] > 0


async def test_kitchen_display_shows_one_local_day_and_checks_its_filters(start_node, demo):
    clock = FakeClock(start=time.time())
    edge = await start_node("edge", clock=clock)
    waiter = await edge.login("waiter@demo.test")
    created = await kot_order(edge, waiter, lines(demo, Espresso=1))
    today = (await edge.fetch("GET", "/pos/kots", token=waiter)).body["data"]
    assert [k["id"] for k in today] == created["kot_ids"]
    day = datetime.datetime.fromtimestamp(clock.time(),
                                          zoneinfo.ZoneInfo("America/New_York")).date()

    clock.advance(24 * 3600)
    waiter = await edge.login("waiter@demo.test")      # the first token may have expired
    resp = await edge.fetch("GET", "/pos/kots", token=waiter)
    assert resp.status == 200 and resp.body["data"] == []
    resp = await edge.fetch("GET", "/pos/kots?date=" + day.isoformat(), token=waiter)
    assert [k["id"] for k in resp.body["data"]] == created["kot_ids"]

    for query, field in [("limit=0", "limit"), ("limit=101", "limit"), ("limit=x", "limit"),
                         ("offset=-1", "offset"), ("date=28-05-2026", "date"),
                         ("date=9999-12-31", "date"), ("date=0001-01-01", "date"),
                         ("status=burnt", "status"), ("kitchen_place_id=bar", "kitchen_place_id")]:
        resp = await edge.fetch("GET", "/pos/kots?" + query, token=waiter)
        assert resp.status == 422, (query, resp)
        assert list(resp.body["errors"]) == [field]


async def test_pickup_orders_get_token_numbers_of_the_day(edge, waiter, demo):
    first = await kot_order(edge, waiter, lines(demo, Garlic_Bread=1))
    second = await kot_order(edge, waiter, lines(demo, Espresso=1))
    assert first["order"]["token_number"] == 1 and second["order"]["token_number"] == 2
    kots = (await order_kots(edge, waiter, second["order"]["id"]))["data"]
    assert [k["token_number"] for k in kots] == [2]


async def test_the_kitchen_never_gets_a_quantity_twice(edge, waiter, demo):
    created = await kot_order(edge, waiter, lines(demo, Garlic_Bread=1))
    order_id = created["order"]["id"]
    again = await edge.fetch("POST", "/pos/orders/%d/kot" % order_id, {}, token=waiter)
    assert again.status == 422 and again.body["success"] is False

    before = (await order_kots(edge, waiter, order_id))["data"]
    added = await edge.fetch("PUT", "/pos/orders/%d/items" % order_id, {"items": [
        {"action": "add", "menu_item_id": demo["items"][D]["Garlic Bread"], "quantity": 2}]},
        token=waiter)
    assert added.status == 200, added
    kots = (await order_kots(edge, waiter, order_id))["data"]
    assert len(kots) == 2 and kots[0] == before[0]
    [new_line] = kots[1]["items"]
    assert (new_line["name"], new_line["quantity"]) == ("Garlic Bread", 2)
    assert new_line["order_item_id"] == added.body["data"]["added_items"][0]
    assert kots[1]["token_number"] == kots[0]["token_number"]


async def test_bumping_every_item_makes_the_kot_food_ready(edge, waiter, chef, demo):
    created = await kot_order(edge, waiter, lines(demo, Garlic_Bread=1, Tomato_Bruschetta=1))
    [kot] = (await order_kots(edge, waiter, created["order"]["id"]))["data"]
    first, second = kot["items"]

    bad = await edge.fetch("PUT", "/pos/kot-items/%d/status" % first["id"],
                           {"status": "burnt"}, token=chef)
    assert bad.status == 422 and bad.body["allowed"] == ["pending", "cooking", "ready",
                                                         "cancelled"]
    assert "status" in bad.body["errors"]
    resp = await edge.fetch("PUT", "/pos/kot-items/%d/status" % first["id"],
                            {"status": "ready"}, token=chef)
    assert resp.status == 200, resp
    assert resp.body["data"] == {"id": first["id"], "kot_id": kot["id"], "status": "ready",
                                 "kot_status": "in_kitchen"}
    resp = await edge.fetch("PUT", "/pos/kot-items/%d/status" % second["id"],
                            {"status": "ready"}, token=chef)
    assert resp.body["data"]["kot_status"] == "food_ready"
    shown = await edge.fetch("GET", "/pos/kots/%d" % kot["id"], token=chef)
    assert shown.body["data"]["status"] == "food_ready"
    assert [i["status"] for i in shown.body["data"]["items"]] == ["ready", "ready"]

    bad = await edge.fetch("PUT", "/pos/kots/%d/status" % kot["id"], {"status": "eaten"},
                           token=chef)
    assert bad.status == 422
    assert bad.body["allowed"] == ["pending_confirmation", "in_kitchen", "food_ready",
                                   "served", "cancelled"]
    served = await edge.fetch("PUT", "/pos/kots/%d/status" % kot["id"], {"status": "served"},
                              token=waiter)
    assert served.status == 200, served
    assert served.body["data"] == {"id": kot["id"], "kot_number": kot["kot_number"],
                                   "status": "served"}


async def test_cancelling_a_kot_takes_it_off_the_bill(edge, waiter, chef, demo):
    reasons = (await edge.fetch("GET", "/pos/kot-cancel-reasons", token=chef)).body["data"]
    out_of_stock = next(r for r in reasons if r["reason"] == "Out of stock")
    assert out_of_stock["cancel_order"] is False

    bread_only = await kot_order(edge, waiter, lines(demo, Garlic_Bread=2))
    created = await kot_order(edge, waiter, lines(demo, Garlic_Bread=2, Espresso=3))
    order_id = created["order"]["id"]
    kitchen, bar = (await order_kots(edge, waiter, order_id))["data"]
    assert await grand_total(edge, waiter, order_id) > \
        bread_only["cart"]["summary"]["grand_total"]

    resp = await edge.fetch("PUT", "/pos/kots/%d/status" % bar["id"], {
        "status": "cancelled", "cancel_reason_id": out_of_stock["id"],
        "cancel_reason_text": "No beans left"}, token=chef)
    assert resp.status == 200, resp
    assert resp.body["data"]["status"] == "cancelled"
    assert await grand_total(edge, waiter, order_id) == \
        bread_only["cart"]["summary"]["grand_total"]
    order = (await edge.fetch("GET", "/pos/orders/%d" % order_id, token=waiter)).body
    assert [i["name"] for i in order["items"]] == ["Garlic Bread"]
    assert order["status"] == "kot"

    shown = (await edge.fetch("GET", "/pos/kots/%d" % bar["id"], token=chef)).body["data"]
    assert shown["cancel_reason_id"] == out_of_stock["id"]
    assert shown["cancel_reason"] == "No beans left"
    assert [(i["name"], i["status"]) for i in shown["items"]] == [("Espresso", "cancelled")]
    priced = (await edge.fetch("GET", "/pos/kots/%d" % kitchen["id"], token=chef)).body["data"]
    assert priced["items"][0]["price"] > 0
    assert priced["items"][0]["amount"] == priced["items"][0]["price"] * 2

    again = await edge.fetch("PUT", "/pos/kots/%d/status" % bar["id"], {"status": "in_kitchen"},
                             token=chef)
    assert again.status == 422 and again.body["success"] is False
    [still] = (await order_kots(edge, waiter, order_id))["data"][:1]
    assert still == kitchen


async def test_cancelling_an_item_takes_its_quantity_off(edge, waiter, chef, demo):
    single = await kot_order(edge, waiter, lines(demo, Espresso=1))
    created = await kot_order(edge, waiter, lines(demo, Espresso=1))
    added = await edge.fetch("PUT", "/pos/orders/%d/items" % created["order"]["id"], {"items": [
        {"action": "update", "order_item_id": created["order"]["items"][0]["id"],
         "quantity": 3}]}, token=waiter)
    assert added.status == 200, added
    order_id = created["order"]["id"]
    first, second = (await order_kots(edge, waiter, order_id))["data"]
    assert second["items"][0]["quantity"] == 2

    resp = await edge.fetch("PUT", "/pos/kot-items/%d/status" % second["items"][0]["id"],
                            {"status": "cancelled"}, token=chef)
    assert resp.status == 200, resp
    assert resp.body["data"]["kot_status"] == "cancelled"
    order = (await edge.fetch("GET", "/pos/orders/%d" % order_id, token=waiter)).body
    assert [(i["quantity"], i["kot_quantity"]) for i in order["items"]] == [(1, 1)]
    assert order["cart"]["summary"]["grand_total"] == single["cart"]["summary"]["grand_total"]
    nothing_new = await edge.fetch("POST", "/pos/orders/%d/kot" % order_id, {}, token=waiter)
    assert nothing_new.status == 422


async def test_a_reason_that_cancels_the_order_cancels_it(edge, waiter, demo):
    reasons = (await edge.fetch("GET", "/pos/kot-cancel-reasons", token=waiter)).body["data"]
    by_customer = next(r for r in reasons if r["cancel_order"])
    created = await kot_order(edge, waiter, lines(demo, Garlic_Bread=1, Espresso=1))
    kitchen, bar = (await order_kots(edge, waiter, created["order"]["id"]))["data"]
    cancel = {"status": "cancelled", "cancel_reason_id": by_customer["id"]}
    # Cancelling the order this way is cancelling it: a waiter may not (Cancel Order).
    refused = await edge.fetch("PUT", "/pos/kots/%d/status" % kitchen["id"], cancel,
                               token=waiter)
    assert refused.status == 403, refused
    manager = await edge.login("manager@demo.test")
    resp = await edge.fetch("PUT", "/pos/kots/%d/status" % kitchen["id"], cancel,
                            token=manager)
    assert resp.status == 200, resp
    order = (await edge.fetch("GET", "/pos/orders/%d" % created["order"]["id"],
                              token=waiter)).body
    assert (order["status"], order["order_status"]) == ("canceled", "cancelled")
    kots = (await order_kots(edge, waiter, order["id"]))["data"]
    assert [k["status"] for k in kots] == ["cancelled", "cancelled"]


async def test_kitchen_places_and_reasons(edge, chef, demo):
    places = await edge.fetch("GET", "/pos/kot-places", token=chef)
    assert places.status == 200, places
    assert [(p["id"], p["name"], p["type"], p["is_default"]) for p in places.body["data"]] == [
        (demo["kot_places"][D]["Kitchen"], "Kitchen", "food", True),
        (demo["kot_places"][D]["Bar"], "Bar", "drink", False)]
    assert all(p["printer_id"] for p in places.body["data"])
    reasons = await edge.fetch("GET", "/pos/kot-cancel-reasons", token=chef)
    assert [set(r) for r in reasons.body["data"]] == [
        {"id", "reason", "cancel_order", "cancel_kot"}] * 4


async def test_kots_of_another_branch_are_not_found(cloud, demo):
    airport = await cloud.login("airport.waiter@demo.test")
    created = await kot_order(cloud, airport, lines(demo, "Airport", Espresso=1))
    [kot_id] = created["kot_ids"]
    [kot] = (await order_kots(cloud, airport, created["order"]["id"]))["data"]
    item_id = kot["items"][0]["id"]
    chef = await cloud.login("chef@demo.test")
    for method, path, body in [
            ("GET", "/pos/kots/%d" % kot_id, None),
            ("PUT", "/pos/kots/%d/status" % kot_id, {"status": "served"}),
            ("PUT", "/pos/kot-items/%d/status" % item_id, {"status": "ready"}),
            ("GET", "/pos/orders/%d/kots" % created["order"]["id"], None)]:
        resp = await cloud.fetch(method, path, body, token=chef)
        assert resp.status == 404, (path, resp)
        assert resp.body["success"] is False
    assert (await cloud.fetch("GET", "/pos/kots", token=chef)).body["data"] == []
    resp = await cloud.fetch("GET", "/pos/kots/%d" % kot_id, token=airport)
    assert resp.status == 200 and resp.body["data"]["status"] == "in_kitchen"


async def test_out_of_range_ids_are_a_404_or_a_422(edge, waiter, demo):
    huge = "9" * 30
    for method, path in [("GET", "/pos/kots/" + huge), ("GET", "/pos/orders/%s/kots" % huge),
                         ("PUT", "/pos/kots/%s/status" % huge),
                         ("PUT", "/pos/kot-items/%s/status" % huge)]:
        resp = await edge.fetch(method, path, {"status": "ready"} if method == "PUT" else None,
                                token=waiter)
        assert resp.status == 404, (path, resp)
    resp = await edge.fetch("GET", "/pos/kots?kitchen_place_id=" + huge, token=waiter)
    assert resp.status == 422 and "kitchen_place_id" in resp.body["errors"]
    [kot_id] = (await kot_order(edge, waiter, lines(demo, Espresso=1)))["kot_ids"]
    resp = await edge.fetch("PUT", "/pos/kots/%d/status" % kot_id, {
        "status": "cancelled", "cancel_reason_id": 2 ** 60}, token=waiter)
    assert resp.status == 422 and "cancel_reason_id" in resp.body["errors"]
    resp = await edge.fetch("PUT", "/pos/kots/%d/status" % kot_id, {
        "status": "cancelled", "cancel_reason_id": 12345}, token=waiter)
    assert resp.status == 422 and "cancel_reason_id" in resp.body["errors"]


async def test_kitchen_routes_need_a_token(edge):
    for method, path in [("GET", "/pos/kots"), ("GET", "/pos/kots/1"),
                         ("PUT", "/pos/kots/1/status"), ("PUT", "/pos/kot-items/1/status"),
                         ("GET", "/pos/orders/1/kots"), ("GET", "/pos/kot-places"),
                         ("GET", "/pos/kot-cancel-reasons")]:
        resp = await edge.fetch(method, path, {"status": "served"} if method == "PUT" else None)
        assert resp.status == 401 and resp.body == {"message": "Unauthenticated."}
