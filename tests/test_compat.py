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
