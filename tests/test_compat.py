"""What TableTrack companion apps send, and what they must get back (COMPAT.md)."""

from protocol import models, pricing

D = "Downtown"


async def kot_order(edge, token, demo, table="T2"):
    """A dine-in order sent to the kitchen: a salmon (Kitchen) and an espresso (Bar)."""
    resp = await edge.fetch("POST", "/pos/orders", {
        "order_type": "dine_in", "table_id": demo["tables"][D][table], "actions": ["kot"],
        "items": [{"id": demo["items"][D]["Grilled Salmon"]},
                  {"id": demo["items"][D]["Espresso"]}]}, token=token)
    assert resp.status == 201, resp
    return resp.body["order"]


def heard(edge):
    """The events the edge publishes from now on."""
    found, publish = [], edge.node.store.publish

    def capture(events):
        found.extend(events)
        publish(events)
    edge.node.store.publish = capture
    return found


async def test_items_without_action_are_added_and_reach_the_kitchen(edge, waiter, demo):
    order = await kot_order(edge, waiter, demo)
    resp = await edge.fetch("PUT", "/pos/orders/%d/items" % order["id"], {"items": [
        {"id": demo["items"][D]["Espresso"], "quantity": 2}]}, token=waiter)
    assert resp.status == 200, resp
    assert len(resp.body["data"]["added_items"]) == 1 and resp.body["data"]["kot_ids"]
    assert resp.body["data"]["items_count"] == 3
    bare = await edge.fetch("PUT", "/pos/orders/%d/items" % order["id"], {"items": [
        {"menu_item_id": demo["items"][D]["Garlic Bread"]}]}, token=waiter)
    assert bare.status == 200 and bare.body["data"]["items_count"] == 4, bare     # quantity 1


async def test_removing_a_sent_line_cancels_it_in_the_kitchen(edge, waiter, demo):
    order = await kot_order(edge, waiter, demo)
    salmon = order["items"][0]
    kots = (await edge.fetch("GET", "/pos/orders/%d/kots" % order["id"], token=waiter)).body
    kitchen = next(k for k in kots["data"] if k["items"][0]["name"] == "Grilled Salmon")
    events = heard(edge)
    resp = await edge.fetch("PUT", "/pos/orders/%d/items" % order["id"], {"items": [
        {"action": "remove", "order_item_id": salmon["id"]}]}, token=waiter)
    assert resp.status == 200, resp
    assert resp.body["data"]["removed_items"] == [salmon["id"]]
    assert resp.body["data"]["sub_total"] == 3.0          # the espresso alone
    shown = (await edge.fetch("GET", "/pos/kots/%d" % kitchen["id"], token=waiter)).body
    assert shown["data"]["status"] == "cancelled"
    line = shown["data"]["items"][0]
    assert line["status"] == "cancelled" and line["cancel_reason"] == "removed from order"
    assert line["cancelled_by"] == "Sofia Martinez" and line["cancelled_at"]
    updated = [e for e in events if e.name == "kot.updated"]
    assert [e.data["kot_id"] for e in updated] == [kitchen["id"]]
    assert updated[0].data["status"] == "cancelled"
    bill = (await edge.fetch("GET", "/pos/orders/%d" % order["id"], token=waiter)).body
    assert [i["name"] for i in bill["items"]] == ["Espresso"]


async def test_a_reason_given_for_a_removal_is_kept(edge, waiter, demo):
    order = await kot_order(edge, waiter, demo)
    resp = await edge.fetch("PUT", "/pos/orders/%d/items" % order["id"], {"items": [
        {"action": "remove", "id": order["items"][1]["id"], "reason": "guest changed mind"}]},
        token=waiter)
    assert resp.status == 200, resp
    kots = (await edge.fetch("GET", "/pos/orders/%d/kots" % order["id"], token=waiter)).body
    bar = next(k for k in kots["data"] if k["items"][0]["name"] == "Espresso")
    assert bar["items"][0]["cancel_reason"] == "guest changed mind"


async def test_a_role_that_may_not_cancel_sent_food_is_told_so(edge, demo):
    def revoke():
        models.RolePermission.delete().where(
            (models.RolePermission.role == demo["roles"]["waiter"]) &
            (models.RolePermission.permission == demo["permissions"]["Manage KOT"])).execute()
    manager = await edge.login("manager@demo.test")
    order = await kot_order(edge, manager, demo)
    edge.node.store.call(revoke)
    waiter = await edge.login("waiter2@demo.test")
    await edge.fetch("POST", "/pos/tables/%d/unlock" % demo["tables"][D]["T2"], token=manager)
    resp = await edge.fetch("PUT", "/pos/orders/%d/items" % order["id"], {"items": [
        {"action": "remove", "order_item_id": order["items"][0]["id"]}]}, token=waiter)
    assert resp.status == 403, resp
    assert resp.body == {"success": False,
                         "message": "Your role may not cancel food already sent to the kitchen."}


async def test_running_tables_carry_their_open_order_in_one_query(edge, waiter, demo):
    db, selects = edge.node.store.db, []
    execute_sql = db.execute_sql

    def counting(sql, *args, **kwargs):
        if sql.startswith("SELECT") and 'FROM "orders"' in sql:
            selects.append(sql)
        return execute_sql(sql, *args, **kwargs)

    async def floor():
        selects.clear()
        db.execute_sql = counting
        try:
            resp = await edge.fetch("GET", "/pos/tables", token=waiter)
        finally:
            db.execute_sql = execute_sql
        assert resp.status == 200, resp
        return {t["table_code"]: t for t in resp.body["tables"]}, len(selects)

    order = await kot_order(edge, waiter, demo, "T2")
    paid = await edge.fetch("POST", "/pos/orders/%d/pay" % order["id"],
                            {"amount": 10, "method": "cash"}, token=waiter)
    assert paid.status == 200, paid
    rows, one_running = await floor()
    t2 = rows["T2"]
    assert t2["current_order_id"] == t2["order_id"] == t2["active_order_id"] == order["id"]
    assert t2["order_total"] == order["total"]
    assert t2["amount_due"] == round(order["total"] - 10, 2)
    assert t2["active_order"] == {
        "id": order["id"], "order_number": order["order_number"],
        "formatted_order_number": order["formatted_order_number"], "status": "payment_due",
        "total": order["total"], "amount_due": t2["amount_due"], "pax": order["pax"],
        "waiter": {"id": demo["users"]["waiter@demo.test"], "name": "Sofia Martinez"}}
    assert t2["branch_id"] == demo["branches"][D] and len(t2["hash"]) == 16
    assert t2["created_at"] and t2["updated_at"]
    assert rows["T3"]["active_order"] is None and rows["T3"]["current_order_id"] is None
    await kot_order(edge, waiter, demo, "T3")
    await kot_order(edge, waiter, demo, "T4")
    _, three_running = await floor()
    assert three_running == one_running == 1


CAPABILITIES = ["orders.view", "orders.create", "orders.update", "orders.cancel", "tables.view",
                "tables.lock", "payments.charge", "payments.refund", "kitchen.view",
                "kitchen.manage", "reservations.manage", "customers.manage", "cash.manage",
                "delivery.manage", "reports.view"]


async def test_capability_names_are_in_every_permission_map(edge, demo):
    maps = {}
    for email in ("waiter@demo.test", "manager@demo.test", "chef@demo.test"):
        login = await edge.fetch("POST", "/auth/login", {"email": email, "password": "demo12345"})
        token, at_login = login.body["data"]["access_token"], login.body["data"]["permission_map"]
        me = (await edge.fetch("GET", "/auth/me", token=token)).body
        platform = (await edge.fetch("GET", "/platform/permissions", token=token)).body
        assert me["permission_map"] == at_login == platform["permission_map"]
        assert all(isinstance(name, str) for name in platform["permissions"])
        assert set(platform["permissions"]) == {
            name for name, held in at_login.items() if held and "." not in name}
        assert {p["name"] for p in platform["all_permissions"]} >= {"Create Order", "Manage KOT"}
        assert set(CAPABILITIES) <= set(at_login)
        maps[email] = (at_login, platform["permissions"])
    waiter, waiter_names = maps["waiter@demo.test"]
    assert waiter["orders.create"] and waiter["payments.charge"] and waiter["kitchen.manage"]
    assert not waiter["orders.cancel"] and not waiter["payments.refund"]
    assert "Create Order" in waiter_names and "Show Payments" in waiter_names
    assert "Refund Payments" not in waiter_names
    manager, manager_names = maps["manager@demo.test"]
    assert all(manager[name] for name in CAPABILITIES)
    assert {"Refund Payments", "Approve Cash Register", "Cancel Order"} <= set(manager_names)
    chef, _ = maps["chef@demo.test"]
    assert chef["kitchen.view"] and not chef["orders.create"] and not chef["payments.charge"]


async def test_a_capability_is_what_the_server_enforces(edge, demo):
    chef = await edge.login("chef@demo.test")
    refused = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}]}, token=chef)
    assert refused.status == 403          # chef: orders.create is false


async def test_a_line_without_its_choices_is_taken_at_the_items_price(edge, waiter, demo):
    burger = demo["items"][D]["Classic Cheeseburger"]     # a required cooking preference
    pizza = demo["items"][D]["Margherita Pizza"]           # sizes
    resp = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "actions": ["kot"],
        "items": [{"id": burger, "quantity": 1}, {"id": pizza, "quantity": 2}]}, token=waiter)
    assert resp.status == 201, resp

    order_type = resp.body["order"]["order_type_id"]

    def own_prices():      # the item's price for the order type, no variation
        book = pricing.book(demo["branches"][D])
        return {i: float(book.item_price(i, None, order_type)) for i in (burger, pizza)}
    prices = edge.node.store.call(own_prices)
    lines = {line["menu_item_id"]: line for line in resp.body["cart"]["items"]}
    assert lines[burger]["price"] == prices[burger] and lines[pizza]["price"] == prices[pizza]
    kots = (await edge.fetch("GET", "/pos/orders/%d/kots" % resp.body["order"]["id"],
                             token=waiter)).body["data"]
    marked = {i["menu_item_id"]: i["missing_choices"] for k in kots for i in k["items"]}
    assert marked == {burger: ["no cooking preference chosen"],
                      pizza: ["no variation chosen"]}


async def test_a_restaurant_may_require_the_choices(edge, waiter, demo):
    edge.node.store.call(lambda: models.Restaurant.update(require_item_choices=True).execute())
    resp = await edge.fetch("POST", "/pos/orders", {"order_type": "pickup", "items": [
        {"id": demo["items"][D]["Margherita Pizza"]}]}, token=waiter)
    assert resp.status == 422 and "items.0.variation_id" in resp.body["errors"]
    config = (await edge.fetch("GET", "/platform/config", token=waiter)).body
    assert config["restaurant"]["require_item_choices"] is True


async def test_orders_list_takes_limit_as_per_page(edge, waiter, demo):
    for _ in range(3):
        resp = await edge.fetch("POST", "/pos/orders", {
            "order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}]},
            token=waiter)
        assert resp.status == 201, resp
    page = (await edge.fetch("GET", "/pos/orders?limit=2", token=waiter)).body
    assert page["per_page"] == 2 and len(page["data"]) == 2 and page["last_page"] == 2
    assert page["next_page_url"].endswith("?page=2&per_page=2")
    assert (await edge.fetch("GET", "/pos/orders?per_page=1", token=waiter)).body[
        "per_page"] == 1
    most = (await edge.fetch("GET", "/pos/orders?limit=500", token=waiter)).body
    assert most["per_page"] == 100 and len(most["data"]) == 3
    refused = await edge.fetch("GET", "/pos/orders?limit=0", token=waiter)
    assert refused.status == 422 and "limit" in refused.body["errors"]


async def test_notifications_carry_type_and_event_key_in_data(edge, waiter, demo):
    chef = await edge.login("chef@demo.test")
    order = await kot_order(edge, waiter, demo)
    kots = (await edge.fetch("GET", "/pos/orders/%d/kots" % order["id"], token=waiter)).body
    for kot in kots["data"]:
        done = await edge.fetch("PUT", "/pos/kots/%d/status" % kot["id"],
                                {"status": "food_ready"}, token=chef)
        assert done.status == 200, done
    note = (await edge.fetch("GET", "/pos/notifications", token=waiter)).body["data"][0]
    assert note["type"] == "order_ready"
    assert note["data"]["type"] == note["data"]["data"]["type"] == "order_ready"
    assert note["data"]["event_key"] == note["data"]["data"]["event_key"] == "order.ready"


async def test_first_kot_waits_for_confirmation_when_the_restaurant_says_so(edge, waiter, demo):
    first = await kot_order(edge, waiter, demo, "T2")
    kots = (await edge.fetch("GET", "/pos/orders/%d/kots" % first["id"], token=waiter)).body
    assert {k["status"] for k in kots["data"]} == {"in_kitchen"}      # the demo's setting
    edge.node.store.call(
        lambda: models.Restaurant.update(kot_requires_confirmation=True).execute())
    order = await kot_order(edge, waiter, demo, "T3")
    kots = (await edge.fetch("GET", "/pos/orders/%d/kots" % order["id"], token=waiter)).body
    assert {k["status"] for k in kots["data"]} == {"pending_confirmation"}
    more = await edge.fetch("PUT", "/pos/orders/%d/items" % order["id"], {"items": [
        {"id": demo["items"][D]["Espresso"]}]}, token=waiter)
    [later] = more.body["data"]["kot_ids"]
    shown = (await edge.fetch("GET", "/pos/kots/%d" % later, token=waiter)).body
    assert shown["data"]["status"] == "in_kitchen"         # only the first waits


async def test_variations_answer_name_and_variation_name(edge, waiter, demo):
    pizza = demo["items"][D]["Margherita Pizza"]
    variations = (await edge.fetch("GET", "/pos/items/%d/variations" % pizza,
                                   token=waiter)).body
    assert variations and all(v["name"] == v["variation_name"] == v["variation"]
                              for v in variations)


async def test_presence_members_answer_any_channel(edge, waiter, demo):
    for channel in ("orders", "private-orders.branch.%d" % demo["branches"][D]):
        resp = await edge.fetch("GET", "/pusher/presence/%s/members" % channel, token=waiter)
        assert resp.status == 200 and resp.body == {"members": [], "count": 0}, resp
    own = "presence-floor.branch.%d" % demo["branches"][D]
    assert (await edge.fetch("GET", "/pusher/presence/%s/members" % own,
                             token=waiter)).status == 200
    other = "presence-floor.branch.%d" % demo["branches"]["Airport"]
    assert (await edge.fetch("GET", "/pusher/presence/%s/members" % other,
                             token=waiter)).status == 403


async def test_pusher_diagnostics_answer_without_a_secret(edge, waiter, demo):
    resp = await edge.fetch("GET", "/pusher/diagnostics", token=waiter)
    assert resp.status == 200, resp
    data = resp.body["data"]
    assert data["authenticated"] is True and data["user_id"] == demo["users"]["waiter@demo.test"]
    assert data["pusher_secret"] == "***" and data["pusher_key"]
    assert data["realtime_bus"] == "none"          # an edge is one process
    assert edge.node.hub.credentials.secret not in resp.text


async def test_switching_branch_moves_every_token_of_the_user(cloud, demo):
    kept = await cloud.login("owner@demo.test")              # the app keeps this one
    other_device = await cloud.login("owner@demo.test")
    airport = demo["branches"]["Airport"]
    resp = await cloud.fetch("POST", "/platform/switch-branch", {"branch_id": airport},
                             token=kept)
    assert resp.status == 200, resp
    assert resp.body["success"] is True and resp.body["branch"] == {"id": airport,
                                                                    "name": "Airport"}
    assert resp.body["token"]
    for token in (kept, other_device, resp.body["token"]):
        config = (await cloud.fetch("GET", "/platform/config", token=token)).body
        assert config["branch"]["id"] == airport
        tables = (await cloud.fetch("GET", "/pos/tables", token=token)).body["tables"]
        assert {t["id"] for t in tables} == set(demo["tables"]["Airport"].values())
    back = await cloud.fetch("POST", "/platform/switch-branch",
                             {"branch_id": demo["branches"][D]}, token=kept)
    assert back.status == 200, back
    me = (await cloud.fetch("GET", "/auth/me", token=other_device)).body
    assert me["user"]["branch_id"] == demo["branches"][D]


async def test_a_branch_outside_the_users_is_still_refused(cloud, demo):
    waiter = await cloud.login("waiter@demo.test")
    resp = await cloud.fetch("POST", "/platform/switch-branch",
                             {"branch_id": demo["branches"]["Airport"]}, token=waiter)
    assert resp.status == 403 and "Airport" in resp.body["message"], resp

    def elsewhere():      # a current branch that is not one of theirs is not followed
        models.User.update(branch=demo["branches"]["Airport"]).where(
            models.User.email == "waiter@demo.test").execute()
    cloud.node.store.call(elsewhere)
    waiter = await cloud.login("waiter@demo.test")
    me = (await cloud.fetch("GET", "/auth/me", token=waiter)).body
    assert me["user"]["branch_id"] == demo["branches"][D]


async def test_an_edge_answers_for_its_own_branch_and_says_where_the_other_is(edge, demo):
    owner = await edge.login("owner@demo.test")

    def switched_at_the_cloud():      # as the user row arrives from head office
        models.User.update(branch=demo["branches"]["Airport"]).where(
            models.User.email == "owner@demo.test").execute()
    edge.node.store.call(switched_at_the_cloud)
    tables = (await edge.fetch("GET", "/pos/tables", token=owner)).body["tables"]
    assert {t["id"] for t in tables} == set(demo["tables"][D].values())
    resp = await edge.fetch("POST", "/platform/switch-branch",
                            {"branch_id": demo["branches"]["Airport"]}, token=owner)
    assert resp.status == 403 and "Airport" in resp.body["message"]
    assert "cloud" in resp.body["message"]
