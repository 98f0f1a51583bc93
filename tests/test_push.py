"""Push delivery to phones from the cloud, against local push services (tests/pushservice.py:
a Web Push service that checks the VAPID signature and decrypts every message, and FCM's
OAuth and messages:send endpoints), with real encryption and no internet.

Registration (web subscriptions, FCM tokens, where http is allowed), the VAPID key reaching
apps at the cloud and at an edge, an "order ready" raised by a waiter's order at the edge
decrypted at the push service, tokens removed on 404/410/UNREGISTERED, retries after 429
honouring Retry-After, 413 shrinking, outages shorter and longer than a notification's time
to live with sync repeating a batch, and a kill -9 of the cloud in the middle of its queue.
"""

import asyncio
import base64
import json
import os
import shutil
import time

import pytest

from cloud import webpush
from edge import server as edge_server
from faultproxy import FaultProxy
from protocol import models
from protocol.clock import Clock
from pushservice import FcmService, Subscriber, WebPushService
from test_sync import enroll_box, eventually, new_code
from test_realtime import Socket
from test_sync_chaos import Http, NodeProcess, free_port, run_command

D = "Downtown"
REGISTER = "/pos/notifications/register-token"


class OffsetClock(Clock):
    """The real clock, set back ``offset`` seconds on demand (wall time only)."""
    offset = 0.0

    def time(self):
        return time.time() - self.offset


@pytest.fixture
async def services(tmp_path):
    web, fcm = await WebPushService().start(), await FcmService().start()
    yield web, fcm
    web.close()
    fcm.close()


def push_settings(services, tmp_path):
    web, fcm = services
    return {"push": True, "push_http_endpoints": "loopback",
            "push_fcm_credentials": fcm.service_account(tmp_path / "firebase.json"),
            "push_fcm_token_uri": fcm.token_uri, "push_fcm_base_url": fcm.origin}


async def register(server, token, device_id, push_token, platform=None, status=200):
    body = {"token": push_token, "device_id": device_id}
    if platform:
        body["platform"] = platform
    resp = await server.fetch("POST", REGISTER, body, token=token)
    assert resp.status == status, resp
    return resp


def tokens_at(server):
    return server.node.store.call(lambda: {t.device_id: t.platform for t in
                                           models.DeviceToken.select()})


async def delivery_log(server, manager, notification_id):
    resp = await server.fetch("GET", "/pos/notifications/%d/deliveries" % notification_id,
                              token=manager)
    assert resp.status == 200, resp
    return resp.body["data"]


def outcomes(lines, platform=None):
    return [line["outcome"] for line in lines if platform in (None, line["platform"])]


async def send_test(server, token, title="Table 4 asks for the bill", body="Now, please."):
    resp = await server.fetch("POST", "/pos/notifications/test",
                              {"title": title, "body": body, "data": {"order_id": 12}},
                              token=token)
    assert resp.status == 200, resp
    notes = await server.fetch("GET", "/pos/notifications", token=token)
    return notes.body["data"][0]["id"]


async def pushing_cloud(start_node, tmp_path, services):
    """A cloud serving every branch and pushing, with tokens of its waiter and manager."""
    cloud = await start_node("cloud", **push_settings(services, tmp_path))
    return cloud, await cloud.login("waiter@demo.test"), await cloud.login("manager@demo.test")


# --- Registration ------------------------------------------------------------------------

async def test_registration_checks_subscriptions_and_fcm_tokens(start_node):
    edge = await start_node("edge", D)
    waiter = await edge.login("waiter@demo.test")
    browser = Subscriber("https://push.example.test/wpush/abc").subscription()
    await register(edge, waiter, "laptop", json.dumps(browser), "web")     # JSON text
    tablet = Subscriber("https://push.example.test/wpush/def").subscription()
    await register(edge, waiter, "tablet", tablet)                          # the object
    await register(edge, waiter, "phone", "dGVzdA:APA91bH-xyz_123", "android")
    assert tokens_at(edge) == {"laptop": "web", "tablet": "web", "phone": "android"}

    def refused(resp, words):
        assert resp.status == 422 and words in resp.body["errors"]["token"][0], resp
    local = Subscriber("http://127.0.0.1:9999/push/1").subscription()
    refused(await register(edge, waiter, "x", local, "web", status=422), "https")
    refused(await register(edge, waiter, "x", "not json", "web", status=422), "PushSubscription")
    bad_key = dict(browser, keys={"p256dh": "AAAA", "auth": browser["keys"]["auth"]})
    refused(await register(edge, waiter, "x", bad_key, "web", status=422), "P-256")
    point = bytearray(base64.urlsafe_b64decode(browser["keys"]["p256dh"] + "=="))
    point[-1] ^= 1                      # 65 bytes, the right form, but not on the curve
    off_curve = dict(browser, keys={"p256dh": base64.urlsafe_b64encode(point).decode(),
                                    "auth": browser["keys"]["auth"]})
    refused(await register(edge, waiter, "x", off_curve, "web", status=422), "P-256")
    short_auth = dict(browser, keys={"p256dh": browser["keys"]["p256dh"], "auth": "AAAA"})
    refused(await register(edge, waiter, "x", short_auth, "web", status=422), "16 bytes")
    refused(await register(edge, waiter, "x", {"endpoint": "https://a.test"}, "web",
                           status=422), "endpoint and keys")
    refused(await register(edge, waiter, "x", "has spaces in it", "ios", status=422), "FCM")

    # Where the node allows plain http on loopback (the demo), a local service may be used.
    demo_edge = await start_node("edge", D, name="demo-edge", push_http_endpoints="loopback")
    waiter = await demo_edge.login("waiter@demo.test")
    await register(demo_edge, waiter, "laptop", local, "web")
    away = Subscriber("http://push.example.test/push/1").subscription()
    refused(await register(demo_edge, waiter, "x", away, "web", status=422), "https")


async def test_the_vapid_key_reaches_apps_at_the_cloud_and_at_an_edge(start_node, tmp_path,
                                                                       services, demo):
    cloud = await start_node("cloud", **push_settings(services, tmp_path))
    # What an operator runs to see the key (the private one stays in data_dir/keys).
    key = run_command("-m", "cloud", "vapid-public-key", "--data-dir",
                      str(tmp_path / "cloud")).strip()
    assert key == webpush.public_key(webpush.load_keys(str(tmp_path / "cloud" / "keys")))
    assert os.stat(tmp_path / "cloud" / "keys" / "vapid.pem").st_mode & 0o077 == 0
    await enroll_box(cloud, tmp_path, "box", new_code(cloud, demo["branches"][D]))
    edge = await start_node("edge", name="box", sync=True)
    for server in (cloud, edge):
        token = await server.login("waiter@demo.test")

        async def published():
            resp = await server.fetch("GET", "/pos/notifications/push-settings", token=token)
            return resp.body["data"]["vapid_public_key"] == key and resp.body
        answer = await eventually(published)
        assert answer["data"]["web_push_enabled"] is True
        beams = await server.fetch("GET", "/pusher/beams-settings", token=token)
        assert beams.body["data"]["vapid_public_key"] == key
        assert "PRIVATE" not in beams.text and "PRIVATE" not in json.dumps(answer)


# --- End to end ----------------------------------------------------------------------------

async def order_ready(edge, waiter, chef, demo, table="T3"):
    """A waiter's order whose KOT the chef bumps to food_ready; answers the order."""
    resp = await edge.fetch("POST", "/pos/orders", {
        "order_type": "Dine In", "table_id": demo["tables"][D][table], "actions": ["kot"],
        "items": [{"id": demo["items"][D]["Garlic Bread"], "quantity": 2}]}, token=waiter)
    assert resp.status == 201, resp
    order = resp.body["order"]
    kots = await edge.fetch("GET", "/pos/orders/%d/kots" % order["id"], token=waiter)
    for kot in kots.body["data"]:
        for item in kot["items"]:
            bumped = await edge.fetch("PUT", "/pos/kot-items/%d/status" % item["id"],
                                      {"status": "ready"}, token=chef)
            assert bumped.status == 200, bumped
    return order


async def latest_notification(server, token, order=None):
    """The newest notification of the token's user (or the one about ``order``)."""
    notes = await server.fetch("GET", "/pos/notifications", token=token)
    if order is None:
        return notes.body["data"][0]
    [note] = [n for n in notes.body["data"] if n["data"]["data"].get("order_id") == order["id"]]
    return note


async def test_an_order_ready_at_the_edge_reaches_the_waiters_phones(start_node, tmp_path,
                                                                     services, demo):
    web, fcm = services
    cloud = await start_node("cloud", **push_settings(services, tmp_path))
    web.vapid_key = webpush.public_key(webpush.load_keys(str(tmp_path / "cloud" / "keys")))
    await enroll_box(cloud, tmp_path, "box", new_code(cloud, demo["branches"][D]))
    edge = await start_node("edge", name="box", sync=True, push_http_endpoints="loopback")
    waiter, chef = await edge.login("waiter@demo.test"), await edge.login("chef@demo.test")
    phone = web.subscriber("sofia-browser")
    await register(edge, waiter, "sofia-browser", json.dumps(phone.subscription()), "web")
    await register(edge, waiter, "sofia-android", "fcm-token-sofia-1", "android")
    await eventually(lambda: len(tokens_at(cloud)) == 2)        # replicated to the cloud

    order = await order_ready(edge, waiter, chef, demo)
    note = await latest_notification(edge, waiter)
    await eventually(lambda: web.payloads("sofia-browser") and fcm.received, timeout=10)
    [payload] = web.payloads("sofia-browser")
    assert payload == {"title": "Order %s is ready" % order["formatted_order_number"],
                       "body": note["body"], "notification_id": str(note["id"]),
                       "type": "order_ready",
                       "data": {"order_id": str(order["id"]),
                                "order_number": order["formatted_order_number"],
                                "kot_id": str(note["data"]["data"]["kot_id"]),
                                "kot_number": str(note["data"]["data"]["kot_number"]),
                                "table_id": str(demo["tables"][D]["T3"])}}
    [received] = web.received
    assert 0 < received["ttl"] <= 600 and received["claims"]["aud"] == web.origin
    assert received["topic"] == "n%d" % note["id"]
    [message] = fcm.received
    assert message["token"] == "fcm-token-sofia-1"
    assert message["notification"]["title"] == payload["title"]
    assert message["data"]["notification_id"] == str(note["id"])
    assert message["android"]["ttl"].endswith("s") and int(message["android"]["ttl"][:-1]) <= 600

    # The delivery log, at the cloud for its managers, and fed to the branch's edge.
    manager = await cloud.login("manager@demo.test")
    lines = await eventually(lambda: _log_when(cloud, manager, note["id"], 2))
    assert sorted(outcomes(lines)) == ["sent", "sent"]
    assert {line["platform"] for line in lines} == {"web", "android"}
    print("\ndelivery log of notification %d (order ready, %s):" % (
        note["id"], order["formatted_order_number"]))
    for line in lines:
        print("  %(at)s %(platform)-8s %(outcome)-8s %(status_code)s %(detail)s" % line)
    edge_manager = await edge.login("manager@demo.test")
    at_edge = await eventually(lambda: _log_when(edge, edge_manager, note["id"], 2))
    assert at_edge == lines
    page = await edge.fetch("GET", "/sync/status", token=edge_manager, prefix=False)
    assert page.status == 200, page
    assert [(p["notification_id"], p["outcome"]) for p in page.body["recent_pushes"]] == \
        [(note["id"], "sent")] * 2
    refused = await edge.fetch("GET", "/pos/notifications/%d/deliveries" % note["id"],
                               token=waiter)
    assert refused.status == 403


async def test_a_reservation_reaches_the_managers_phone_with_a_days_ttl(start_node, tmp_path,
                                                                        services, demo):
    _, fcm = services
    cloud, waiter, manager = await pushing_cloud(start_node, tmp_path, services)
    await register(cloud, manager, "manager-phone", "fcm-manager-1", "ios")
    when = time.strftime("%Y-%m-%d 19:00:00", time.gmtime(time.time() + 86400))
    resp = await cloud.fetch("POST", "/pos/reservations", {
        "table_id": demo["tables"][D]["T3"], "reservation_date_time": when,
        "party_size": 4, "name": "Ada Lovelace"}, token=waiter)
    assert resp.status == 201, resp
    await eventually(lambda: fcm.received)
    [message] = fcm.received
    assert message["token"] == "fcm-manager-1"
    assert message["notification"]["title"] == "New reservation"
    assert "Ada Lovelace" in message["notification"]["body"]
    assert message["data"]["type"] == "new_reservation"
    assert message["data"]["reservation_id"] == str(resp.body["id"])
    assert 3600 < int(message["android"]["ttl"][:-1]) <= 86400
    assert int(message["apns"]["headers"]["apns-expiration"]) > time.time() + 3600


async def _log_when(server, token, notification_id, count):
    lines = await delivery_log(server, token, notification_id)
    return len(lines) >= count and lines


async def test_a_device_connected_to_the_websocket_is_not_pushed(start_node, tmp_path,
                                                                 services, demo):
    web, _ = services
    cloud = await start_node("cloud", **push_settings(services, tmp_path))
    waiter = await cloud.login("waiter@demo.test")
    here, away = web.subscriber("here"), web.subscriber("away")
    await register(cloud, waiter, "here", here.subscription(), "web")
    await register(cloud, waiter, "away", away.subscription(), "web")
    ws = await Socket.open(cloud)
    await ws.connected()
    await ws.subscribe(cloud, "private-App.Models.User.%d" % demo["users"]["waiter@demo.test"],
                       waiter, device_id="here")
    note = await send_test(cloud, waiter)
    await eventually(lambda: web.payloads("away"))
    manager = await cloud.login("manager@demo.test")
    lines = await eventually(lambda: _log_when(cloud, manager, note, 2))
    assert sorted(outcomes(lines)) == ["sent", "skipped"]
    assert web.payloads("here") == []
    ws.close()


# --- Failures ----------------------------------------------------------------------------

async def test_dead_tokens_are_removed(start_node, tmp_path, services):
    web, fcm = services
    cloud, waiter, manager = await pushing_cloud(start_node, tmp_path, services)
    gone, expired = web.subscriber("gone"), web.subscriber("expired")
    await register(cloud, waiter, "gone", gone.subscription(), "web")
    await register(cloud, waiter, "expired", expired.subscription(), "web")
    await register(cloud, waiter, "old-android", "fcm-old", "android")
    await register(cloud, waiter, "bad-ios", "fcm-bad", "ios")
    web.plan["gone"].append(404)
    web.plan["expired"].append(410)
    fcm.plan["fcm-old"].append("UNREGISTERED")
    fcm.plan["fcm-bad"].append("INVALID_ARGUMENT")
    note = await send_test(cloud, waiter)
    lines = await eventually(lambda: _log_when(cloud, manager, note, 4))
    assert outcomes(lines) == ["token_removed"] * 4
    assert tokens_at(cloud) == {}
    assert any("UNREGISTERED" in line["detail"] for line in lines)
    assert web.received == [] and fcm.received == []


async def test_a_dead_token_registered_at_an_edge_is_removed_there_too(start_node, tmp_path,
                                                                       services, demo):
    web, _ = services
    cloud = await start_node("cloud", **push_settings(services, tmp_path))
    await enroll_box(cloud, tmp_path, "box", new_code(cloud, demo["branches"][D]))
    edge = await start_node("edge", name="box", sync=True, push_http_endpoints="loopback")
    waiter = await edge.login("waiter@demo.test")
    old = web.subscriber("old-laptop")
    await register(edge, waiter, "old-laptop", old.subscription(), "web")
    await eventually(lambda: tokens_at(cloud) == {"old-laptop": "web"})
    web.plan["old-laptop"].append(410)
    await send_test(edge, waiter)
    await eventually(lambda: tokens_at(cloud) == {} and tokens_at(edge) == {}, timeout=10)


async def test_429_is_retried_after_its_retry_after_then_sent(start_node, tmp_path, services):
    web, fcm = services
    cloud, waiter, manager = await pushing_cloud(start_node, tmp_path, services)
    busy = web.subscriber("busy")
    await register(cloud, waiter, "busy", busy.subscription(), "web")
    await register(cloud, waiter, "droid", "fcm-busy", "android")
    web.plan["busy"].append(429)
    fcm.plan["fcm-busy"].extend(["QUOTA_EXCEEDED", "UNAVAILABLE"])
    started = time.monotonic()
    note = await send_test(cloud, waiter)
    lines = await eventually(lambda: _log_when(cloud, manager, note, 5), timeout=15)
    assert outcomes(lines, "web") == ["retry", "sent"]
    assert outcomes(lines, "android") == ["retry", "retry", "sent"]
    assert "retry in 1.0 s" in lines[0]["detail"] and lines[0]["status_code"] == 429
    assert time.monotonic() - started >= 1.0 and web.attempts["busy"] == 2
    assert len(web.payloads("busy")) == 1 and len(fcm.received) == 1
    assert fcm.token_fetches == 1           # the OAuth token is kept until it expires
    # Retries are bounded: a service that never recovers is given up.
    web.plan["busy"].extend([503] * 10)
    web.retry_after = 0
    note = await send_test(cloud, waiter, title="Again")
    lines = await eventually(lambda: _log_when(cloud, manager, note, 6), timeout=15)
    assert outcomes(lines, "web") == ["retry"] * 4 + ["failed"]
    gave_up = [line for line in lines if line["platform"] == "web"][-1]
    assert "gave up after 5 attempts" in gave_up["detail"] and gave_up["status_code"] == 503


async def test_413_shrinks_the_payload_or_refuses_it(start_node, tmp_path, services):
    web, _ = services
    cloud, waiter, manager = await pushing_cloud(start_node, tmp_path, services)
    small = web.subscriber("small")
    await register(cloud, waiter, "small", small.subscription(), "web")
    web.max_body = 420
    note = await send_test(cloud, waiter, body="A long message. " * 120)
    lines = await eventually(lambda: _log_when(cloud, manager, note, 1))
    assert outcomes(lines) == ["sent"] and "after a 413" in lines[0]["detail"]
    [payload] = web.payloads("small")
    assert payload["title"] == "Table 4 asks for the bill" and payload["body"].endswith("…")
    assert payload["notification_id"] == str(note)
    web.max_body = 60
    note = await send_test(cloud, waiter, title="Too big")
    lines = await eventually(lambda: _log_when(cloud, manager, note, 1))
    assert outcomes(lines) == ["failed"] and "too large" in lines[0]["detail"]


# --- Outages -------------------------------------------------------------------------------

async def test_outages_shorter_and_longer_than_the_ttl(start_node, tmp_path, services, demo):
    """The edge's sync is stopped (the internet is down) while orders become ready; its
    clock is set back while the second is made, as if that outage had lasted 11 minutes.
    The first is pushed once, though its batch reaches the cloud twice; the second is dropped."""
    web, _ = services
    cloud = await start_node("cloud", **push_settings(services, tmp_path))
    await enroll_box(cloud, tmp_path, "box", new_code(cloud, demo["branches"][D]))
    proxy = await FaultProxy(cloud.port, seed=1).start()
    await proxy.set_faults(False)
    clock = OffsetClock()
    edge = await start_node("edge", name="box", sync=True, clock=clock,
                            push_http_endpoints="loopback", cloud_url=proxy.url)
    try:
        waiter, chef = await edge.login("waiter@demo.test"), await edge.login("chef@demo.test")
        phone = web.subscriber("phone")
        await register(edge, waiter, "phone", phone.subscription(), "web")
        await eventually(lambda: len(tokens_at(cloud)) == 1)

        await edge.sync.stop()                                  # the internet goes down
        short = await order_ready(edge, waiter, chef, demo, "T3")
        short_note = await latest_notification(edge, waiter)
        clock.offset = 11 * 60
        waiter2, chef2 = await edge.login("waiter@demo.test"), await edge.login("chef@demo.test")
        late = await order_ready(edge, waiter2, chef2, demo, "T4")
        clock.offset = 0
        long_note = await latest_notification(edge, waiter, late)
        assert long_note["id"] != short_note["id"]
        await asyncio.sleep(0.5)
        assert web.received == []

        proxy.force("/sync/push", "duplicate")                  # the batch arrives twice
        edge.sync = edge_server.start_sync(edge.node)           # back online
        manager = await cloud.login("manager@demo.test")
        expired = await eventually(lambda: _log_when(cloud, manager, long_note["id"], 1),
                                   timeout=10)
        assert outcomes(expired) == ["expired"] and "time to live is 600 s" in \
            expired[0]["detail"]
        await eventually(lambda: web.payloads("phone"))
        await eventually(lambda: proxy.counts["duplicate"] >= 1)
        await asyncio.sleep(1.0)
        assert [p["notification_id"] for p in web.payloads("phone")] == [str(short_note["id"])]
        assert web.payloads("phone")[0]["title"] == "Order %s is ready" % \
            short["formatted_order_number"]
        assert outcomes(await delivery_log(cloud, manager, short_note["id"])) == ["sent"]
    finally:
        await proxy.close()


# --- kill -9 -------------------------------------------------------------------------------

async def test_a_kill_9_mid_queue_loses_and_repeats_nothing(tmp_path, seeded, services):
    """The cloud, a process of its own, is killed while 30 pushes are queued and 4 are in
    flight; restarted, it sends the rest: every device gets every notification once."""
    web, _ = services
    template, _ = seeded
    data = str(tmp_path / "cloud" / "data")
    os.makedirs(data)
    shutil.copyfile(template, os.path.join(data, "cloud.db"))
    cloud = NodeProcess("cloud", data, free_port(), "--push-http-endpoints", "loopback",
                        "--push-concurrency", "4")
    http = Http()
    cloud.start()
    try:
        await cloud.ready(http)
        code, login = await http.call(cloud.port, "POST", "/api/application-integration/auth/"
                                      "login", {"email": "waiter@demo.test",
                                                "password": "demo12345"})
        token = login["data"]["access_token"]
        phones = [web.subscriber("phone-%d" % n) for n in range(5)]
        for phone in phones:
            await http.write(cloud.port, "POST", REGISTER, {
                "token": phone.subscription(), "platform": "web", "device_id": phone.name},
                token=token, key=None, expect=200)
        web.delay = 0.3
        killed = asyncio.get_running_loop().create_future()

        async def kill_mid_queue():
            await eventually(lambda: sum(web.attempts.values()) >= 9, timeout=20)
            await asyncio.sleep(0.15)       # 4 in flight; those answered are recorded
            await cloud.kill()
            killed.set_result(len(web.received))
        killer = asyncio.ensure_future(kill_mid_queue())
        for n in range(6):
            await http.write(cloud.port, "POST", "/pos/notifications/test",
                             {"title": "Call %d" % n, "body": "Table %d" % n}, token=token,
                             key="call-%d" % n, expect=200)
        before = await killed
        await killer
        assert 0 < before < 30
        cloud.start()
        await cloud.ready(http)
        await eventually(lambda: len(web.received) >= 30, timeout=30)
        await asyncio.sleep(1.0)
        seen = [(r["subscriber"], r["payload"]["notification_id"]) for r in web.received]
        assert len(seen) == 30 and len(set(seen)) == 30
        assert web.abandoned >= 1                   # it was killed with pushes in flight
    finally:
        await cloud.stop()
        http.close()
