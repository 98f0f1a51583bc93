"""Realtime: the Pusher-compatible WebSocket, channel auth, settings, publishing and replay.

The client side is the real thing where it matters: pusher-js 8, laravel-echo 2 and the
official ``pusher`` server SDK, run by Node (tests/node/scenarios.mjs) against a real edge,
reading their settings from /pusher/broadcast-settings as an app does. Protocol details
no client library exposes (close codes, a client that stops reading, replay gaps) are
checked with a plain WebSocket client.
"""

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
import tracemalloc

import pytest
import tornado.websocket

from edge import cli
from protocol import events, notifications
from protocol.clock import Clock
from protocol.realtime import auth as channel_auth
from protocol.realtime import hub as hub_module
from sync import enrollment

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
D = "Downtown"
NOTIFICATION = events.NOTIFICATION_EVENT


# --- Running the real clients -------------------------------------------------------------

@pytest.fixture(scope="session")
def node_clients():
    """tests/node/node_modules with the pinned clients (npm ci when it is missing)."""
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "pusher-js")):
        npm = shutil.which("npm")
        assert npm, "npm is needed for the realtime tests (apt-get install nodejs npm)"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
    return NODE_DIR


async def scenario(name, server, timeout=60, **params):
    """Run scenarios.mjs <name> against server; its JSON answer."""
    proc = await asyncio.create_subprocess_exec(
        shutil.which("node") or "node", "scenarios.mjs", name,
        json.dumps(dict(params, base=server.url)), cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        raise
    lines = out.decode().strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"error": "no output"}
    assert proc.returncode == 0, (result, err.decode()[-3000:])
    return result


def pickup_item(demo):
    return demo["items"][D]["Shakshuka"]


# --- A plain WebSocket client, for what the libraries hide ----------------------------------

class Socket:
    def __init__(self, conn):
        self.conn = conn
        self.socket_id = None

    @classmethod
    async def open(cls, server, key=None, protocol="7"):
        key = key or server.node.hub.credentials.key
        conn = await tornado.websocket.websocket_connect(
            "ws://127.0.0.1:%d/app/%s?protocol=%s" % (server.port, key, protocol))
        return cls(conn)

    async def connected(self):
        message = await self.next()
        assert message["event"] == "pusher:connection_established", message
        self.socket_id = message["data"]["socket_id"]
        return message["data"]

    async def next(self, timeout=5):
        text = await asyncio.wait_for(self.conn.read_message(), timeout)
        if text is None:
            return None
        message = json.loads(text)
        if isinstance(message.get("data"), str):
            try:
                message["data"] = json.loads(message["data"])
            except ValueError:
                pass
        return message

    async def expect(self, event, timeout=5):
        while True:
            message = await self.next(timeout)
            assert message is not None, "closed while waiting for %s" % event
            if message["event"] == event:
                return message

    async def closed(self, timeout=10):
        while await self.next(timeout) is not None:
            pass
        return self.conn.close_code

    def send(self, event, data=None, channel=None):
        message = {"event": event, "data": data if data is not None else {}}
        if channel:
            message["channel"] = channel
        self.conn.write_message(json.dumps(message))

    async def subscribe(self, server, channel, token=None, **extra):
        """Subscribe, answered; ``extra`` (``last_seq``) goes with a private channel's
        auth request, and with the subscription itself for a public channel."""
        data = {"channel": channel}
        if token:
            resp = await server.fetch("POST", "/broadcasting/auth", dict(
                socket_id=self.socket_id, channel_name=channel, **extra), token=token,
                prefix=False)
            assert resp.status == 200, resp
            data.update(resp.body)
        else:
            data.update(extra)
        self.send("pusher:subscribe", data)
        return await self.expect("pusher_internal:subscription_succeeded")

    def close(self):
        self.conn.close()


async def socket_for(server, channel=None, token=None):
    sock = await Socket.open(server)
    await sock.connected()
    if channel:
        await sock.subscribe(server, channel, token)
    return sock


# --- With pusher-js and Laravel Echo ------------------------------------------------------

async def test_echo_hears_a_notification_made_through_the_api(edge, node_clients, demo):
    result = await scenario("notification", edge)
    assert result["user_id"] == demo["users"]["waiter@demo.test"]
    note = result["notification"]
    assert note["title"] == "Table 4 wants the bill" and note["body"] == "Now, please"
    assert note["data"] == {"table": 4, "type": "test", "event_key": "test"}
    assert note["event_key"] == "test"
    assert note["type"] == "test" and isinstance(note["id"], int) and note["seq"] > 0


async def test_a_user_cannot_subscribe_to_another_users_channel(edge, node_clients, demo):
    result = await scenario("forbidden", edge,
                            other_user_id=demo["users"]["waiter2@demo.test"],
                            own_user_id=demo["users"]["waiter@demo.test"])
    assert result["error"]["type"] == "AuthError" and result["error"]["status"] == 403


async def test_presence_members_join_whisper_and_leave(edge, node_clients, demo):
    result = await scenario("presence", edge, branch_id=demo["branches"][D])
    waiter, manager = demo["users"]["waiter@demo.test"], demo["users"]["manager@demo.test"]
    assert result["here"] == [{"name": "Sofia Martinez"}]
    assert sorted(m["name"] for m in result["here_b"]) == ["Daniel Kim", "Sofia Martinez"]
    assert result["joining"] == result["leaving"] == {"name": "Daniel Kim"}
    assert result["whispered"] == {"table": 7}
    assert result["members"]["count"] == 2
    assert {m["id"] for m in result["members"]["members"]} == {waiter, manager}


async def test_ping_pong_keeps_an_idle_connection_open(start_node, node_clients):
    edge = await start_node("edge", D, activity_timeout=1)
    result = await scenario("ping", edge, idle_ms=4500)
    assert result["activity_timeout"] == 1
    assert result["same_socket"] and result["state"] == "connected"
    assert result["states"] == []                  # never left "connected"
    assert result["pongs"] >= 2                    # pusher-js pinged, the edge answered
    assert result["event_title"] == "still here"


async def test_a_client_cut_off_gets_what_it_missed_on_resubscribing(edge, node_clients, demo):
    result = await scenario("replay", edge, branch_id=demo["branches"][D],
                            item_id=pickup_item(demo))
    assert result["resyncs"] == []
    assert result["received"] == [result["first"]] + result["missed"]


async def test_when_history_no_longer_reaches_back_the_client_is_told_to_resync(
        start_node, node_clients, demo):
    edge = await start_node("edge", D, replay_history=1)
    result = await scenario("replay", edge, branch_id=demo["branches"][D],
                            item_id=pickup_item(demo))
    assert result["received"] == [result["first"]]
    [resync] = result["resyncs"]
    assert resync["last_seq"] < resync["seq"]


async def test_the_official_server_sdk_publishes_with_socket_exclusion(edge, node_clients):
    result = await scenario("sdk", edge, secret=edge.node.hub.credentials.secret)
    assert result["statuses"] == [200, 200]
    assert [d["n"] for d in result["other"]] == [1, 2]
    assert [d["n"] for d in result["author"]] == [1]          # socket_id left it out
    assert result["refused"] == 401


async def test_a_wrong_app_key_is_refused_with_4001(edge, node_clients):
    result = await scenario("wrong_key", edge)
    assert result["codes"] == [4001]
    assert result["states"] == ["disconnected"] and result["state"] == "disconnected"  # no retry


async def test_a_kitchen_screen_sees_a_waiters_new_order(edge, node_clients, demo):
    result = await scenario("kitchen", edge, branch_id=demo["branches"][D],
                            item_id=pickup_item(demo))
    event = result["event"]
    assert event["order_id"] == result["created"]
    assert event["status"] == "kot" and event["order_number"]


# --- Settings and channel authorisation ---------------------------------------------------

async def test_settings_name_this_node_and_never_a_secret(edge):
    token = await edge.login("waiter@demo.test")
    secret = edge.node.hub.credentials.secret
    key = edge.node.hub.credentials.key
    answers = {}
    for path in ("/pusher/settings", "/pusher/broadcast-settings", "/pusher/beams-settings",
                 "/pusher/status"):
        resp = await edge.fetch("GET", path, token=token)
        assert resp.status == 200, resp
        assert secret not in resp.text and "secret" not in resp.text
        answers[path] = resp.body
    data = answers["/pusher/broadcast-settings"]["data"]
    assert data["pusher_key"] == key and data["is_enabled"] is True
    assert (data["ws_host"], data["ws_port"], data["force_tls"]) == ("127.0.0.1", edge.port, False)
    assert data["auth_endpoint"] == "%s/broadcasting/auth" % edge.url
    full = answers["/pusher/settings"]["data"]
    assert full["pusher_broadcast"] is True and full["beamer_status"] is False
    assert {"id", "instance_id", "pusher_app_id", "pusher_cluster",
            "is_enabled_pusher_broadcast"} <= set(full)
    assert answers["/pusher/beams-settings"] == {"data": {
        "beamer_status": False, "instance_id": None, "is_enabled": False,
        "vapid_public_key": None}}     # no cloud's key has reached this edge (test_push.py)
    assert answers["/pusher/status"] == {"pusher_broadcast_enabled": True,
                                         "pusher_beams_enabled": False,
                                         "any_pusher_enabled": True}
    assert (await edge.fetch("GET", "/pusher/settings")).status == 401


async def test_settings_follow_the_public_url(start_node):
    edge = await start_node("edge", D, public_url="https://pos.example.test/branchline")
    token = await edge.login("waiter@demo.test")
    data = (await edge.fetch("GET", "/pusher/broadcast-settings", token=token)).body["data"]
    assert (data["ws_host"], data["ws_port"], data["force_tls"], data["ws_path"]) == (
        "pos.example.test", 443, True, "/branchline")
    assert data["auth_endpoint"] == "https://pos.example.test/branchline/broadcasting/auth"


async def test_channel_rules(edge, demo):
    waiter = await edge.login("waiter@demo.test")
    me, other = demo["users"]["waiter@demo.test"], demo["users"]["waiter2@demo.test"]
    here, there = demo["branches"][D], demo["branches"]["Airport"]
    order = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": pickup_item(demo), "quantity": 1}]},
        token=waiter)
    assert order.status == 201, order
    order_id = order.body["order"]["id"]
    allowed = ["private-App.Models.User.%d" % me, "private-orders.branch.%d" % here,
               "private-kots.branch.%d" % here, "presence-floor.branch.%d" % here,
               "private-orders.%d" % order_id]
    refused = ["private-App.Models.User.%d" % other, "private-orders.branch.%d" % there,
               "presence-floor.branch.%d" % there, "private-orders.%d" % (order_id + 1),
               "private-anything", "public-channel"]
    for channel in allowed + refused:
        for path, prefix in (("/broadcasting/auth", False), ("/pusher/authorize-channel", True)):
            resp = await edge.fetch("POST", path, {"socket_id": "1.2", "channel_name": channel},
                                    token=waiter, prefix=prefix)
            assert resp.status == (200 if channel in allowed else 403), (channel, path, resp)
    # Laravel's form body, as pusher-js sends it; the signature is Pusher's.
    resp = await edge.fetch("POST", "/broadcasting/auth", raw=(
        "socket_id=123.456&channel_name=private-App.Models.User.%d" % me).encode(),
        content_type="application/x-www-form-urlencoded", token=waiter, prefix=False)
    assert resp.status == 200, resp
    creds = edge.node.hub.credentials
    assert resp.body == {"auth": "%s:%s" % (creds.key, channel_auth.signature(
        creds.secret, "123.456:private-App.Models.User.%d" % me))}
    presence = await edge.fetch("POST", "/broadcasting/auth", {
        "socket_id": "1.2", "channel_name": "presence-floor.branch.%d" % here}, token=waiter,
        prefix=False)
    assert json.loads(presence.body["channel_data"]) == {
        "user_id": me, "user_info": {"name": "Sofia Martinez"}}
    bad = await edge.fetch("POST", "/broadcasting/auth", {"socket_id": "abc",
                                                         "channel_name": "private-x"},
                           token=waiter, prefix=False)
    assert bad.status == 422 and "socket_id" in bad.body["errors"]
    assert (await edge.fetch("POST", "/broadcasting/auth", {
        "socket_id": "1.2", "channel_name": "private-App.Models.User.%d" % me},
        prefix=False)).status == 401


# --- The protocol, with a plain WebSocket client ------------------------------------------

async def test_handshake_ping_and_a_bad_signature(edge, demo):
    sock = await Socket.open(edge)
    established = await sock.connected()
    assert established["activity_timeout"] == 120
    assert channel_auth.valid_name("private-x") and "." in sock.socket_id
    sock.send("pusher:ping")
    assert (await sock.expect("pusher:pong"))["data"] == {}
    sock.send("pusher:subscribe", {"channel": "private-App.Models.User.%d"
                                   % demo["users"]["waiter@demo.test"], "auth": "k:forged"})
    error = await sock.expect("pusher:subscription_error")
    assert error["data"]["status"] == 401 and error["data"]["type"] == "AuthError"
    sock.send("client-typing", {"x": 1}, channel="public-room")
    assert (await sock.expect("pusher:error"))["data"]["code"] == 4009
    sock.conn.write_message("not json")
    assert (await sock.expect("pusher:error"))["data"]["code"] == 4300
    sock.close()


async def test_refusals_use_the_protocols_close_codes(start_node):
    edge = await start_node("edge", D, max_connections=1)
    wrong = await Socket.open(edge, key="nope")
    error = await wrong.next()
    assert error["event"] == "pusher:error" and error["data"]["code"] == 4001
    assert await wrong.closed() == 4001
    old = await Socket.open(edge, protocol="4")
    assert (await old.next())["data"]["code"] == 4007
    first = await socket_for(edge)
    second = await Socket.open(edge)
    assert (await second.next())["data"]["code"] == 4100       # over capacity: retry later
    assert await second.closed() == 4100
    edge.node.hub.close()                                        # shutting down
    assert await first.closed() == 4200                          # reconnect at once


async def test_a_silent_client_is_pinged_then_dropped(start_node):
    edge = await start_node("edge", D, activity_timeout=1)
    sock = await socket_for(edge)
    assert (await sock.next(timeout=5))["event"] == "pusher:ping"
    assert await sock.closed(timeout=10) == 4201


async def test_replay_history_is_bounded_in_bytes_and_an_older_client_resyncs(edge):
    """Kept for replay: every channel's last events, but no more than HISTORY_BYTES in all
    (a shift's orders would otherwise stay in the edge's memory). A client that saw an
    event still kept gets the rest; one that saw only older ones is told to resync."""
    hub = edge.node.hub
    payload = "x" * 8000
    seqs = [hub.publish("news", "big", json.dumps({"p": payload})) for _ in range(300)]
    assert hub.history_bytes <= hub_module.HISTORY_BYTES < 300 * 8000
    recent = await socket_for(edge)
    recent.send("pusher:subscribe", {"channel": "news", "last_seq": seqs[-3]})
    await recent.expect("pusher_internal:subscription_succeeded")
    assert [(await recent.expect("big"))["data"]["seq"] for _ in seqs[-2:]] == seqs[-2:]
    old = await socket_for(edge)
    old.send("pusher:subscribe", {"channel": "news", "last_seq": seqs[0]})
    resync = await old.expect("branchline:resync")
    assert resync["data"] == {"last_seq": seqs[0], "seq": seqs[-1]}
    recent.close()
    old.close()


def test_a_frame_kept_for_replay_holds_only_its_own_bytes():
    """orjson's bytes come in a buffer of at least 4 KiB: kept as they come, a shift's
    frames would hold megabytes for a few hundred KB of text."""
    tracemalloc.start()
    try:
        frames = [hub_module.frame("order.updated", "private-orders", {"id": n}, seq=n)
                  for n in range(200)]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 200 * 512, "%d bytes for %d" % (held, sum(map(len, frames)))


def test_an_orders_history_holds_little_beside_its_frames():
    """Every order has a channel of its own with two or three events, and the hub keeps
    the history of up to HISTORY_CHANNELS channels: beside the frames themselves, a
    channel's history holds a few hundred bytes (a deque's block of 64 slots took 0.7 KB
    of each, 0.7 MB for a day's orders)."""
    hub = hub_module.Hub(None)
    tracemalloc.start()
    try:
        for order_id in range(hub_module.HISTORY_CHANNELS):
            for status in ("placed", "paid"):
                hub.publish(events.order_channel(order_id), "OrderStatusUpdated",
                            {"order_id": order_id, "status": status})
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(hub.histories) == hub_module.HISTORY_CHANNELS
    assert held - hub.history_bytes < hub_module.HISTORY_CHANNELS * 768


async def test_a_client_that_stops_reading_is_cut_off_and_others_get_everything(edge):
    channel = "news"
    reader = await socket_for(edge, channel)
    hub = edge.node.hub
    host, port = "127.0.0.1", edge.port
    stuck = socket.create_connection((host, port))     # a client that never reads
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.sendall(("GET /app/%s?protocol=7 HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n" % (hub.credentials.key, host, port)
                   ).encode())
    stuck.sendall(_masked(json.dumps({"event": "pusher:subscribe",
                                      "data": {"channel": channel}}).encode()))
    for _ in range(100):
        if hub.subscriber_count(channel) == 2:
            break
        await asyncio.sleep(0.05)
    assert hub.subscriber_count(channel) == 2
    payload = "x" * 8000
    count = 0
    while hub.subscriber_count(channel) == 2 and count < 5000:
        hub.publish(channel, "big", json.dumps({"p": payload}))
        count += 1
        if count % 20 == 0:
            await asyncio.sleep(0)
    assert hub.subscriber_count(channel) == 1, "the stuck client was never cut off"
    assert len(hub.connections) == 1
    for _ in range(count):
        assert (await reader.expect("big"))["data"]["p"] == payload
    stuck.close()
    reader.close()


def _masked(payload):
    """A client's text frame (clients must mask)."""
    mask = os.urandom(4)
    header = bytes([0x81, 0x80 | len(payload)]) if len(payload) < 126 else \
        bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big")
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def test_domain_events_reach_the_branch_and_order_channels(edge, demo):
    waiter = await edge.login("waiter@demo.test")
    chef = await edge.login("chef@demo.test")
    branch = demo["branches"][D]
    floor = await socket_for(edge, events.branch_channel("orders", branch), waiter)
    kitchen = await socket_for(edge, events.branch_channel("kots", branch), chef)
    tables = await socket_for(edge, events.branch_channel("tables", branch), waiter)
    table_id = demo["tables"][D]["T5"]
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "Dine In", "table_id": table_id, "pax": 2, "actions": ["kot"],
        "items": [{"id": pickup_item(demo), "quantity": 1}]}, token=waiter)
    assert created.status == 201, created
    order_id = created.body["order"]["id"]
    assert (await floor.expect("order.created"))["data"]["order_id"] == order_id
    locked = (await tables.expect("table.locked"))["data"]
    assert locked == {"table_id": table_id, "table_code": "T5", "seq": locked["seq"],
                      "user_id": demo["users"]["waiter@demo.test"]}
    kot = (await kitchen.expect("kot.created"))["data"]
    assert kot["order_id"] == order_id and kot["status"] == "in_kitchen"

    mine = await socket_for(edge, events.order_channel(order_id), waiter)
    resp = await edge.fetch("PUT", "/pos/kots/%d/status" % kot["kot_id"],
                            {"status": "food_ready"}, token=chef)
    assert resp.status == 200, resp
    assert (await kitchen.expect("kot.updated"))["data"]["status"] == "food_ready"
    paid = await edge.fetch("POST", "/pos/orders/%d/pay" % order_id, {"method": "cash"},
                            token=waiter)
    assert paid.status == 200, paid
    assert (await floor.expect("order.paid"))["data"]["status"] == "paid"
    assert (await mine.expect("OrderStatusUpdated"))["data"]["status"] == "paid"
    assert (await tables.expect("table.unlocked"))["data"]["table_id"] == table_id


async def test_events_published_from_another_thread_are_delivered(edge, demo):
    waiter = demo["users"]["waiter@demo.test"]
    token = await edge.login("waiter@demo.test")
    sock = await socket_for(edge, events.user_channel(waiter), token)

    def notify():
        notifications.notify(waiter, demo["branches"][D], "test", "From a thread", "body")
    await asyncio.to_thread(edge.node.store.call, notify)     # Store.call off the loop
    event = await sock.expect(NOTIFICATION)
    assert event["data"]["title"] == "From a thread"


async def test_publishing_api_checks_its_signature(edge):
    creds = edge.node.hub.credentials
    body = json.dumps({"name": "hello", "channel": "news", "data": "{}"}).encode()
    query = {"auth_key": creds.key, "auth_timestamp": str(int(time.time())),
             "auth_version": "1.0", "body_md5": hashlib.md5(body).hexdigest()}
    text = "&".join("%s=%s" % kv for kv in sorted(query.items()))
    path = "/apps/%s/events" % creds.app_id
    signed = text + "&auth_signature=" + channel_auth.signature(
        creds.secret, "POST\n%s\n%s" % (path, text))
    sock = await socket_for(edge, "news")
    ok = await edge.fetch("POST", path + "?" + signed, raw=body, prefix=False)
    assert ok.status == 200 and ok.body == {}, ok
    assert (await sock.expect("hello"))["data"]["seq"] > 0
    tampered = await edge.fetch("POST", path + "?" + signed, raw=body.replace(b"hello", b"hullo"),
                                prefix=False)
    assert tampered.status == 401
    other_app = await edge.fetch("POST", "/apps/999/events?" + signed, raw=body, prefix=False)
    assert other_app.status == 404
    sock.close()


async def test_head_office_at_the_cloud_sees_an_edge_order_as_it_syncs(start_node, tmp_path,
                                                                        demo):
    cloud = await start_node("cloud")
    code = cloud.node.store.call(enrollment.create_code, demo["branches"][D], Clock().now())
    await asyncio.to_thread(cli.enroll, argparse.Namespace(
        cloud_url=cloud.url, code=code, data_dir=str(tmp_path / "box"), name="box",
        force=False))
    edge = await start_node("edge", name="box", sync=True)
    owner = await cloud.login("owner@demo.test")
    office = await socket_for(cloud, events.branch_channel("orders", demo["branches"][D]), owner)
    waiter = await edge.login("waiter@demo.test")
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": pickup_item(demo), "quantity": 1}]},
        token=waiter)
    assert created.status == 201, created
    event = await office.expect("order.created", timeout=15)
    assert event["data"]["order_id"] == created.body["order"]["id"]
    office.close()


async def test_a_logout_ends_the_subscriptions_its_token_authorised(edge, demo):
    waiter = await edge.login("waiter@demo.test")
    other = await edge.login("waiter2@demo.test")
    channel = events.branch_channel("orders", demo["branches"][D])
    revoked = await socket_for(edge, channel, waiter)
    kept = await socket_for(edge, channel, other)
    started = asyncio.get_running_loop().time()
    assert (await edge.fetch("POST", "/auth/logout", token=waiter)).status == 200
    ended = await revoked.expect("pusher:error", timeout=1)
    assert ended["data"]["code"] == 4009
    assert asyncio.get_running_loop().time() - started < 1
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": pickup_item(demo)}]}, token=other)
    assert created.status == 201, created
    assert (await kept.expect("order.created"))["data"]["order_id"] == created.body["order"]["id"]
    with pytest.raises(asyncio.TimeoutError):
        await revoked.expect("order.created", timeout=0.5)
    # The signature it was given no longer subscribes that socket either.
    signed = await edge.fetch("POST", "/broadcasting/auth", {
        "socket_id": revoked.socket_id, "channel_name": channel}, token=other, prefix=False)
    assert signed.status == 200
    revoked.send("pusher:subscribe", {"channel": channel, "auth": "x"})
    assert (await revoked.expect("pusher:subscription_error"))["data"]["status"] == 401
    revoked.close()
    kept.close()


async def test_a_lone_surrogate_is_refused_and_the_connection_stays(edge):
    sock = await socket_for(edge)
    sock.conn.write_message('{"event": "client-\\ud800", "channel": "private-x", "data": {}}')
    assert (await sock.expect("pusher:error"))["data"]["code"] == 4300
    sock.conn.write_message('{"event": "pusher:subscribe", "data": {"channel": "a\\udfff"}}')
    assert (await sock.expect("pusher:error"))["data"]["code"] == 4300
    sock.send("pusher:ping")
    assert (await sock.expect("pusher:pong"))["data"] == {}
    sock.close()


async def test_one_connection_holds_a_bounded_number_of_subscriptions(edge):
    from protocol.realtime.pusher import MAX_CHANNELS
    sock = await socket_for(edge)
    for n in range(MAX_CHANNELS):
        sock.send("pusher:subscribe", {"channel": "public-%d" % n})
        await sock.expect("pusher_internal:subscription_succeeded")
    sock.send("pusher:subscribe", {"channel": "public-one-more"})
    refused = await sock.expect("pusher:subscription_error")
    assert refused["data"]["status"] == 400 and refused["channel"] == "public-one-more"
    sock.close()
