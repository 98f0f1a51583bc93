"""What TableTrack companion apps send, and what they must get back (COMPAT.md)."""

from protocol import models

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
