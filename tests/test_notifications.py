"""Notifications over HTTP: device tokens (one row per user and device, a token
moves to the user who registers it last), the list (newest first, unread count,
both title shapes), marking read, the test notification and its broadcast, and
a KOT that becomes food_ready notifying the order's waiter."""


import json

from protocol import events, models
from protocol.clock import FakeClock
from pushservice import Subscriber

D = "Downtown"
ROW_KEYS = {"id", "type", "title", "body", "data", "read_at", "created_at"}




def device_tokens(server):
    return server.node.store.call(lambda: [
        (t.user_id, t.device_id, t.platform, t.token)
        for t in models.DeviceToken.select().order_by(models.DeviceToken.id)])


def capture_events(server):
    """The events the node publishes from now on, in order."""
    published, store = [], server.node.store
    original = store.publish

    def publish(evs):
        published.extend(evs)
        original(evs)
    store.publish = publish
    return published


async def register(server, auth, **body):
    resp = await server.fetch("POST", "/pos/notifications/register-token", body, token=auth)
    assert resp.status == 200, resp
    assert resp.body == {"saved": True}


async def notifications(server, token, query=""):
    resp = await server.fetch("GET", "/pos/notifications" + query, token=token)
    assert resp.status == 200, resp
    return resp.body


async def send_test(server, token, **body):
    resp = await server.fetch("POST", "/pos/notifications/test", body, token=token)
    assert resp.status == 200, resp
    assert resp.body == {"sent": True}


async def test_a_token_is_upserted_per_user_and_device(edge, waiter, demo):
    sofia = demo["users"]["waiter@demo.test"]
    await register(edge, waiter, token="tok-1", platform="Android", device_id="phone-1")
    await register(edge, waiter, token="tok-2", platform="android", device_id="phone-1")
    assert device_tokens(edge) == [(sofia, "phone-1", "android", "tok-2")]
    browser = Subscriber("https://push.example.test/wpush/v2/laptop").subscription()
    await register(edge, waiter, token=json.dumps(browser), platform="web", device_id="laptop")
    await register(edge, waiter, token=browser, platform="web", device_id="laptop")
    stored = json.dumps({"endpoint": browser["endpoint"], "keys": browser["keys"]},
                        separators=(",", ":"))
    assert device_tokens(edge) == [(sofia, "phone-1", "android", "tok-2"),
                                   (sofia, "laptop", "web", stored)]
    row = edge.node.store.call(lambda: models.DeviceToken.get(models.DeviceToken.token ==
                                                              stored))
    assert row.restaurant_id == demo["restaurant_id"] and row.branch_id == demo["branches"][D]


async def test_a_token_registered_by_another_user_moves_to_them(edge, waiter, demo):
    await register(edge, waiter, token="shared-tablet", platform="ios", device_id="tablet")
    other = await edge.login("waiter2@demo.test")
    await register(edge, other, token="shared-tablet", platform="ios", device_id="tablet")
    assert device_tokens(edge) == [(demo["users"]["waiter2@demo.test"], "tablet", "ios",
                                    "shared-tablet")]
    # Without a device id the token itself is the key.
    await register(edge, waiter, token="shared-tablet")
    assert device_tokens(edge) == [(demo["users"]["waiter@demo.test"], "tablet", "ios",
                                    "shared-tablet")]


async def test_register_token_validates_its_fields(edge, waiter):
    path = "/pos/notifications/register-token"
    missing = await edge.fetch("POST", path, {"platform": "ios"}, token=waiter)
    assert missing.status == 422
    assert missing.body["errors"] == {"token": ["The token field is required."]}
    bad = await edge.fetch("POST", path, {"token": "t", "platform": "symbian",
                                          "device_id": "d" * 192}, token=waiter)
    assert bad.status == 422
    assert set(bad.body["errors"]) == {"platform", "device_id"}
    long = await edge.fetch("POST", path, {"token": "t", "platform": "p" * 21}, token=waiter)
    assert long.status == 422 and "20 characters" in long.body["errors"]["platform"][0]
    assert device_tokens(edge) == []


async def test_notifications_are_newest_first_with_the_unread_count(start_node, demo):
    clock = FakeClock()
    edge = await start_node("edge", clock=clock)
    waiter = await edge.login("waiter@demo.test")
    await send_test(edge, waiter, title="First", body="one")
    clock.advance(60)
    await send_test(edge, waiter, title="Second", body="two",
                    data={"order_id": 123, "type": "order_update"})
    body = await notifications(edge, waiter)
    assert body["unread_count"] == 2 and body["total"] == 2
    assert body["current_page"] == 1 and body["per_page"] == 20 and body["last_page"] == 1
    newest, oldest = body["data"]
    assert set(newest) == ROW_KEYS
    assert (newest["title"], oldest["title"]) == ("Second", "First")
    assert newest["type"] == "test" and newest["body"] == "two" and newest["read_at"] is None
    assert newest["data"] == {"title": "Second", "body": "two", "type": "test",
                              "event_key": "test",
                              "data": {"order_id": 123, "type": "order_update",
                                       "event_key": "test"}}
    assert oldest["data"] == {"title": "First", "body": "one", "type": "test",
                              "event_key": "test",
                              "data": {"type": "test", "event_key": "test"}}
    assert newest["created_at"] > oldest["created_at"]
    # Another user sees none of them.
    other = await edge.login("waiter2@demo.test")
    assert (await notifications(edge, other))["total"] == 0
    bad = await edge.fetch("GET", "/pos/notifications?page=0", token=waiter)
    assert bad.status == 422 and "page" in bad.body["errors"]


async def test_marking_read_counts_down_and_another_users_is_404(edge, waiter):
    await send_test(edge, waiter, title="Hello", body="there")
    await send_test(edge, waiter, title="Again", body="here")
    first = (await notifications(edge, waiter))["data"][0]
    path = "/pos/notifications/%d/read" % first["id"]
    resp = await edge.fetch("POST", path, token=waiter)
    assert resp.status == 200 and resp.body == {"read": True}
    assert (await edge.fetch("POST", path, token=waiter)).body == {"read": True}
    body = await notifications(edge, waiter)
    assert body["unread_count"] == 1
    assert body["data"][0]["read_at"] is not None and body["data"][1]["read_at"] is None

    other = await edge.login("waiter2@demo.test")
    theirs = await edge.fetch("POST", path, token=other)
    assert theirs.status == 404 and theirs.body["success"] is False
    unknown = await edge.fetch("POST", "/pos/notifications/999/read", token=waiter)
    assert unknown.status == 404


async def test_the_test_notification_is_broadcast_on_the_users_channel(edge, waiter, demo):
    published = capture_events(edge)
    await send_test(edge, waiter, title="Ping", body="Is this thing on?", data={"x": 1})
    [event] = published
    assert event.channel == "private-App.Models.User.%d" % demo["users"]["waiter@demo.test"]
    assert event.name == events.NOTIFICATION_EVENT
    stored = (await notifications(edge, waiter))["data"][0]
    assert event.data == {"id": stored["id"], "type": "test", "title": "Ping",
                          "body": "Is this thing on?", "event_key": "test",
                          "data": {"x": 1, "type": "test", "event_key": "test"}}

    bad = await edge.fetch("POST", "/pos/notifications/test", {"data": [1]}, token=waiter)
    assert bad.status == 422
    assert set(bad.body["errors"]) == {"title", "body", "data"}


async def test_a_food_ready_kot_notifies_the_orders_waiter(edge, waiter, demo):
    chef = await edge.login("chef@demo.test")
    resp = await edge.fetch("POST", "/pos/orders", {
        "order_type": "Dine In", "table_id": demo["tables"][D]["T3"], "actions": ["kot"],
        "items": [{"id": demo["items"][D]["Garlic Bread"], "quantity": 2},
                  {"id": demo["items"][D]["Tomato Bruschetta"], "quantity": 1}]},
        token=waiter)
    assert resp.status == 201, resp
    order = resp.body["order"]
    kots = await edge.fetch("GET", "/pos/orders/%d/kots" % order["id"], token=waiter)
    [kot] = kots.body["data"]
    published = capture_events(edge)
    first, second = kot["items"]
    for item in (first, second):
        bumped = await edge.fetch("PUT", "/pos/kot-items/%d/status" % item["id"],
                                  {"status": "ready"}, token=chef)
        assert bumped.status == 200, bumped
        if item is first:
            assert (await notifications(edge, waiter))["total"] == 0
    assert bumped.body["data"]["kot_status"] == "food_ready"

    body = await notifications(edge, waiter)
    assert body["total"] == 1 and body["unread_count"] == 1
    [note] = body["data"]
    assert note["type"] == "order_ready"
    assert note["title"] == "Order %s is ready" % order["formatted_order_number"]
    assert "T3" in note["body"] and "Kitchen" in note["body"]
    assert note["data"]["data"]["order_id"] == order["id"]
    assert note["data"]["data"]["kot_id"] == kot["id"]
    assert [e.channel for e in published if e.name == events.NOTIFICATION_EVENT] == [
        "private-App.Models.User.%d" % demo["users"]["waiter@demo.test"]]
    # The chef who bumped it gets nothing; setting food_ready again notifies no one.
    assert (await notifications(edge, chef))["total"] == 0
    again = await edge.fetch("PUT", "/pos/kots/%d/status" % kot["id"],
                             {"status": "food_ready"}, token=chef)
    assert again.status == 200, again
    assert (await notifications(edge, waiter))["total"] == 1


async def test_notification_routes_need_a_token(edge):
    for method, path in [("GET", "/pos/notifications"),
                         ("POST", "/pos/notifications/register-token"),
                         ("POST", "/pos/notifications/test"),
                         ("POST", "/pos/notifications/1/read")]:
        resp = await edge.fetch(method, path, {})
        assert resp.status == 401 and resp.body == {"message": "Unauthenticated."}, path
