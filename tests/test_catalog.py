"""The catalog and order configuration a POS reads, against the demo restaurant."""

import datetime
import zoneinfo

from protocol import accounts, catalog, models
from protocol.clock import FakeClock

ITEM_KEYS = {"id", "item_name", "description", "type", "price", "menu_id", "item_category_id",
             "is_available", "image", "preparation_time", "kot_place_id", "prices",
             "variations", "modifier_groups", "variations_count", "modifier_groups_count"}


async def get(node, path, email="waiter@demo.test"):
    resp = await node.fetch("GET", path, token=await node.login(email))
    assert resp.status == 200, resp
    return resp.body


def by_name(rows, key="name"):
    return {row[key]: row for row in rows}


async def test_menus_and_categories_with_their_item_counts(edge, demo):
    menus = await get(edge, "/pos/menus")
    assert menus == [{"id": demo["menus"]["Downtown"][name], "menu_name": name, "sort_order": i}
                     for i, name in enumerate(["All-Day Menu", "Bar & Beverages", "Desserts"])]
    categories = await get(edge, "/pos/categories")
    assert [(c["category_name"], c["count"]) for c in categories] == [
        ("Starters", 6), ("Mains", 8), ("Pizza & Pasta", 6), ("Salads & Sides", 5),
        ("Desserts", 5), ("Drinks", 10)]
    assert categories[0]["id"] == demo["categories"]["Downtown"]["Starters"]
    assert set(categories[0]) == {"id", "count", "category_name", "sort_order"}


async def test_items_carry_prices_variations_and_modifier_groups(edge, demo):
    items = await get(edge, "/pos/items")
    assert len(items) == 40
    assert all(ITEM_KEYS <= set(row) for row in items)
    downtown = demo["items"]["Downtown"]
    assert {row["id"] for row in items} == set(downtown.values())
    order_types = demo["order_types"]["Downtown"]

    bread = by_name(items, "item_name")["Garlic Bread"]
    assert bread["price"] == 6.5 and bread["type"] == "veg"
    assert bread["menu_id"] == demo["menus"]["Downtown"]["All-Day Menu"]
    assert bread["item_category_id"] == demo["categories"]["Downtown"]["Starters"]
    assert bread["kot_place_id"] == demo["kot_places"]["Downtown"]["Kitchen"]
    prices = {p["order_type_id"]: p["final_price"] for p in bread["prices"]}
    assert prices == {order_types["dine_in"]: 6.5, order_types["delivery"]: 7.15,
                      order_types["pickup"]: 6.18}
    assert bread["variations"] == [] and bread["modifier_groups"] == []
    assert bread["variations_count"] == 0 and bread["modifier_groups_count"] == 0
    assert "price_for_order_type" not in bread

    wings = by_name(items, "item_name")["Buffalo Wings"]
    assert [v["variation"] for v in wings["variations"]] == ["6 pieces", "12 pieces"]
    assert [v["price"] for v in wings["variations"]] == [11.0, 20.0]
    assert {v["menu_item_id"] for v in wings["variations"]} == {wings["id"]}
    assert [g["name"] for g in wings["modifier_groups"]] == ["Spice level", "Dipping sauces"]
    assert wings["variations_count"] == 2 and wings["modifier_groups_count"] == 2
    spice = wings["modifier_groups"][0]
    assert spice["pivot"]["is_required"] is True
    assert spice["pivot"]["allow_multiple_selection"] is False
    assert [o["name"] for o in spice["options"]] == ["Mild", "Medium", "Hot", "Extra hot"]
    assert [o["is_preselected"] for o in spice["options"]] == [False, True, False, False]


async def test_a_delivery_price_differs_from_dine_in(edge, demo):
    token = await edge.login("waiter@demo.test")
    order_types = demo["order_types"]["Downtown"]
    pizza_id = demo["items"]["Downtown"]["Margherita Pizza"]
    seen = {}
    for slug in ("dine_in", "delivery"):
        resp = await edge.fetch("GET", "/pos/items?order_type_id=%d" % order_types[slug],
                                token=token)
        assert resp.status == 200, resp
        seen[slug] = by_name(resp.body, "item_name")["Margherita Pizza"]
    assert seen["dine_in"]["price_for_order_type"] == 12.0
    assert seen["delivery"]["price_for_order_type"] == 13.2
    assert seen["delivery"]["price"] == 12.0          # the item's own price stays as it is
    assert [v["price"] for v in seen["dine_in"]["variations"]] == [12.0, 15.0, 18.0]
    assert [v["price"] for v in seen["delivery"]["variations"]] == [13.2, 16.5, 19.8]
    toppings = seen["delivery"]["modifier_groups"][0]["options"]
    assert [o["price"] for o in toppings] == [1.65, 1.1, 0.83, 0.83, 2.2]
    # A slug names the order type too, and one item answers the same row.
    one = await edge.fetch("GET", "/pos/items/%d?order_type=delivery" % pizza_id, token=token)
    assert one.status == 200, one
    assert one.body == seen["delivery"]
    bad = await edge.fetch("GET", "/pos/items?order_type_id=999", token=token)
    assert bad.status == 422 and "order_type" in bad.body["errors"]


async def test_items_by_category_and_by_menu(edge, demo):
    token = await edge.login("waiter@demo.test")
    drinks = demo["categories"]["Downtown"]["Drinks"]
    resp = await edge.fetch("GET", "/pos/items/category/%d" % drinks, token=token)
    assert resp.status == 200, resp
    assert len(resp.body) == 10 and {r["item_category_id"] for r in resp.body} == {drinks}
    assert resp.body[0]["item_name"] == "Fresh Lemonade"
    menus = demo["menus"]["Downtown"]
    for menu, count in (("All-Day Menu", 25), ("Bar & Beverages", 10), ("Desserts", 5)):
        resp = await edge.fetch("GET", "/pos/items/menu/%d" % menus[menu], token=token)
        assert resp.status == 200, resp
        assert len(resp.body) == count and {r["menu_id"] for r in resp.body} == {menus[menu]}


async def test_variations_of_an_item_per_order_type(edge, demo):
    token = await edge.login("waiter@demo.test")
    latte = demo["items"]["Downtown"]["Caffè Latte"]
    pickup = demo["order_types"]["Downtown"]["pickup"]
    plain = await edge.fetch("GET", "/pos/items/%d/variations" % latte, token=token)
    assert plain.status == 200, plain
    assert [{k: v[k] for k in ("variation", "price", "menu_item_id")} for v in plain.body] == [
        {"variation": "Small 12 oz", "price": 4.75, "menu_item_id": latte},
        {"variation": "Large 20 oz", "price": 6.25, "menu_item_id": latte}]
    priced = await edge.fetch("GET", "/pos/items/%d/variations?order_type_id=%d"
                              % (latte, pickup), token=token)
    assert [v["price"] for v in priced.body] == [4.51, 5.94]   # 95 %, rounded half-up
    assert [v["id"] for v in priced.body] == [v["id"] for v in plain.body]


async def test_modifier_option_prices_follow_the_order_type(edge, demo):
    token = await edge.login("waiter@demo.test")
    burger = demo["items"]["Downtown"]["Classic Cheeseburger"]
    delivery = demo["order_types"]["Downtown"]["delivery"]
    resp = await edge.fetch("GET", "/pos/items/%d/modifier-groups" % burger, token=token)
    assert resp.status == 200, resp
    groups = by_name(resp.body)
    assert set(groups) == {"Burger add-ons", "Cooking preference"}
    addons = groups["Burger add-ons"]
    assert addons["id"] == demo["modifier_groups"]["Downtown"]["Burger add-ons"]
    assert addons["description"] == "Make it your own."
    assert addons["pivot"]["is_required"] is False
    assert addons["pivot"]["allow_multiple_selection"] is True
    assert set(addons["options"][0]) >= {"id", "name", "price", "is_available",
                                         "is_preselected", "sort_order"}
    assert [(o["name"], o["price"]) for o in addons["options"]] == [
        ("Bacon", 2.0), ("Fried egg", 1.25), ("Avocado", 1.75), ("Extra patty", 3.5)]
    assert groups["Cooking preference"]["pivot"]["is_required"] is True

    resp = await edge.fetch("GET", "/pos/items/%d/modifier-groups?order_type_id=%d"
                            % (burger, delivery), token=token)
    groups = by_name(resp.body)
    assert [o["price"] for o in groups["Burger add-ons"]["options"]] == [2.2, 1.38, 1.93, 3.85]
    # Free options have no delivery price of their own and stay free.
    assert {o["price"] for o in groups["Cooking preference"]["options"]} == {0}


async def test_order_types_taxes_and_delivery_platforms(edge, demo):
    order_types = await get(edge, "/pos/order-types")
    ids = demo["order_types"]["Downtown"]
    assert [{k: t[k] for k in ("id", "slug", "order_type_name", "type")}
            for t in order_types] == [
        {"id": ids["dine_in"], "slug": "dine_in", "order_type_name": "Dine In", "type": "dine_in"},
        {"id": ids["delivery"], "slug": "delivery", "order_type_name": "Delivery",
         "type": "delivery"},
        {"id": ids["pickup"], "slug": "pickup", "order_type_name": "Pickup", "type": "pickup"}]
    taxes = await get(edge, "/pos/taxes")
    assert taxes == [{"id": demo["taxes"]["State Tax"], "tax_name": "State Tax",
                      "tax_percent": 8.875},
                     {"id": demo["taxes"]["City Tax"], "tax_name": "City Tax",
                      "tax_percent": 2.5}]
    platforms = await get(edge, "/pos/delivery-platforms")
    assert [{k: p[k] for k in ("id", "name", "logo")} for p in platforms] == [
        {"id": demo["delivery_platforms"]["Downtown"]["UberEats"], "name": "UberEats",
         "logo": "ubereats.png"},
        {"id": demo["delivery_platforms"]["Downtown"]["DoorDash"], "name": "DoorDash",
         "logo": "doordash.png"}]
    assert all("logo_url" in p for p in platforms)


async def test_extra_charges_for_each_way_of_naming_an_order_type(edge, demo):
    token = await edge.login("waiter@demo.test")
    service = {"id": demo["extra_charges"]["Service Charge"], "charge_name": "Service Charge",
               "charge_type": "percent", "charge_value": 10, "order_types": ["dine_in"],
               "is_enabled": True}
    dine_in = demo["order_types"]["Downtown"]["dine_in"]
    for name in ("dine_in", "Dine%20In", "dinein", str(dine_in)):
        resp = await edge.fetch("GET", "/pos/extra-charges/" + name, token=token)
        assert resp.status == 200, (name, resp)
        assert resp.body == [service], name
    resp = await edge.fetch("GET", "/pos/extra-charges/delivery", token=token)
    assert [(c["charge_name"], c["charge_type"], c["charge_value"]) for c in resp.body] == [
        ("Packaging Fee", "fixed", 1.5)]
    for unknown in ("takeaway", str(demo["order_types"]["Airport"]["delivery"])):
        resp = await edge.fetch("GET", "/pos/extra-charges/" + unknown, token=token)
        assert resp.status == 404, resp
        assert resp.body == {"success": False, "message": "Order type not found."}


async def test_actions_say_what_each_does(edge):
    actions = await get(edge, "/pos/actions")
    assert [a["key"] for a in actions] == ["draft", "kot", "bill", "cancel", "pay"]
    assert all(a["label"] and a["effect"] for a in actions)
    statuses = {a["key"]: (a["status"], a["order_status"]) for a in actions}
    assert statuses["kot"] == ("kot", "confirmed")
    assert statuses["cancel"] == ("canceled", "cancelled")
    assert "KOT" in by_name(actions, "key")["kot"]["effect"]


async def test_restaurants_and_the_branches_a_user_may_use(edge, demo):
    restaurants = await get(edge, "/pos/restaurants")
    assert restaurants == [{"id": demo["restaurant_id"], "name": "Branchline Bistro",
                            "hash": demo["restaurant_hash"]}]
    mine = await get(edge, "/pos/branches")
    assert [(b["id"], b["name"]) for b in mine] == [(demo["branches"]["Downtown"], "Downtown")]
    assert mine[0]["address"].startswith("120 Greenwich Street")
    owner = await get(edge, "/pos/branches", "owner@demo.test")
    assert [b["name"] for b in owner] == ["Downtown", "Airport"]


async def test_next_order_number_is_shown_but_not_used_up(start_node):
    # 03:30 UTC on 15 January is still the 14th in New York, where the branch is.
    moment = datetime.datetime(2026, 1, 15, 3, 30, tzinfo=datetime.timezone.utc)
    edge = await start_node("edge", clock=FakeClock(moment.timestamp()))
    today = moment.astimezone(zoneinfo.ZoneInfo("America/New_York")).strftime("%Y%m%d")
    assert today == "20260114"
    token = await edge.login("waiter@demo.test")
    for _ in range(2):
        resp = await edge.fetch("GET", "/pos/get-order-number", token=token)
        assert resp.status == 200, resp
        assert resp.body == [1, "ORD-%s-001" % today]
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": await _item_id(edge, "Espresso"),
                                           "quantity": 1}]}, token=token)
    assert created.status == 201, created
    assert created.body["order"]["formatted_order_number"] == "ORD-%s-001" % today
    resp = await edge.fetch("GET", "/pos/get-order-number", token=token)
    assert resp.body == [2, "ORD-%s-002" % today]


async def _item_id(edge, name):
    token = await edge.login("waiter@demo.test")
    resp = await edge.fetch("GET", "/pos/items", token=token)
    return by_name(resp.body, "item_name")[name]["id"]


async def test_another_branchs_rows_are_not_found(edge, demo):
    token = await edge.login("waiter@demo.test")
    airport_item = demo["items"]["Airport"]["Garlic Bread"]
    for path, message in (
            ("/pos/items/%d" % airport_item, "Item not found."),
            ("/pos/items/%d/variations" % airport_item, "Item not found."),
            ("/pos/items/%d/modifier-groups" % airport_item, "Item not found."),
            ("/pos/items/menu/%d" % demo["menus"]["Airport"]["Desserts"], "Menu not found."),
            ("/pos/items/category/%d" % demo["categories"]["Airport"]["Drinks"],
             "Category not found.")):
        resp = await edge.fetch("GET", path, token=token)
        assert resp.status == 404, (path, resp)
        assert resp.body == {"success": False, "message": message}
    for path in ("/pos/items/abc", "/pos/items/12x/variations", "/pos/items/menu/-1",
                 "/pos/items/" + "9" * 30):
        resp = await edge.fetch("GET", path, token=token)
        assert resp.status == 404, (path, resp)
        assert resp.body["success"] is False


async def test_the_cloud_answers_for_the_tokens_branch(cloud, demo):
    token = await cloud.login("airport.waiter@demo.test")
    items = await cloud.fetch("GET", "/pos/items", token=token)
    assert items.status == 200, items
    assert {r["id"] for r in items.body} == set(demo["items"]["Airport"].values())
    downtown_item = demo["items"]["Downtown"]["Garlic Bread"]
    resp = await cloud.fetch("GET", "/pos/items/%d" % downtown_item, token=token)
    assert resp.status == 404
    menus = await cloud.fetch("GET", "/pos/menus", token=token)
    assert {m["id"] for m in menus.body} == set(demo["menus"]["Airport"].values())


async def test_every_catalog_route_needs_a_token(edge, demo):
    item = demo["items"]["Downtown"]["Garlic Bread"]
    for path in ("/pos/menus", "/pos/categories", "/pos/items", "/pos/items/%d" % item,
                 "/pos/items/%d/variations" % item, "/pos/items/%d/modifier-groups" % item,
                 "/pos/items/menu/1", "/pos/items/category/1", "/pos/order-types",
                 "/pos/extra-charges/dine_in", "/pos/delivery-platforms", "/pos/actions",
                 "/pos/taxes", "/pos/restaurants", "/pos/branches", "/pos/get-order-number"):
        resp = await edge.fetch("GET", path)
        assert resp.status == 401, (path, resp)
        assert resp.body == {"message": "Unauthenticated."}


def _statements(store, demo, fn, *args, **kwargs):
    """The SQL statements fn(actor, ...) runs for the Downtown waiter."""
    def traced():
        user = models.User.get_by_id(demo["users"]["waiter@demo.test"])
        actor = accounts.actor_for(user, demo["branches"]["Downtown"])
        statements = []
        connection = models.database.connection()
        connection.set_trace_callback(statements.append)
        try:
            fn(actor, *args, **kwargs)
        finally:
            connection.set_trace_callback(None)
        return statements
    return store.call(traced)


async def test_an_item_list_costs_the_same_queries_however_long_it_is(edge, demo):
    desserts = demo["categories"]["Downtown"]["Desserts"]
    _statements(edge.node.store, demo, catalog.items)        # the price book, read once
    everything = _statements(edge.node.store, demo, catalog.items)
    five = _statements(edge.node.store, demo, catalog.items, category_id=desserts)
    assert len(everything) <= 6, everything
    assert len(five) == len(everything) + 1          # + the category's own look-up


async def test_an_order_charges_what_the_catalog_shows(edge, demo):
    token = await edge.login("waiter@demo.test")
    pizza_id = demo["items"]["Downtown"]["Margherita Pizza"]
    shown = await edge.fetch("GET", "/pos/items/%d?order_type=delivery" % pizza_id, token=token)
    medium = shown.body["variations"][1]
    cheese = shown.body["modifier_groups"][0]["options"][0]
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "delivery", "items": [{"id": pizza_id, "quantity": 1,
                                             "variation_id": medium["id"],
                                             "modifiers": [{"id": cheese["id"]}]}]},
        token=token)
    assert created.status == 201, created
    line = created.body["cart"]["items"][0]
    assert (line["price"], line["modifiers_total"]) == (medium["price"], cheese["price"])
    assert (medium["price"], cheese["price"]) == (16.5, 1.65)
