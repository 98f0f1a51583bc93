"""Realtime across a cloud of several processes sharing one Redis (cloud/realtime_bus.py).

Two cloud nodes in this test process, on their own ports over one PostgreSQL database
and one Redis (the Redis of conftest's ``redis_url``), stand for two processes: an
order committed on one reaches pusher-js on the other, presence, whispers, replay,
grants and the publishing API cross between them, and a Redis that goes away leaves
each serving its own. One test runs ``branchline-cloud --workers 2`` for real and kills
a worker with kill -9. Every cloud keeps its keys under its own random app id.
"""

import asyncio
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

try:
    import redis
except ImportError:        # the redis_url fixture skips (or fails) with the reason
    redis = None

from cloud.realtime_bus import RedisBus, identity
from protocol import events
from protocol.realtime import auth as channel_auth
from protocol.realtime import hub as hub_module
from protocol.realtime.hub import Hub
from test_postgres_workers import worker_of, workers
from test_realtime import Socket, node_clients, pickup_item, scenario, socket_for  # noqa: F401
from test_sync import eventually
from test_sync_chaos import API, Http, NodeProcess, free_port

D = "Downtown"


def forget(url, app_id):
    """Delete a test cloud's keys from the shared Redis."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter("branchline:%s:*" % app_id, count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
async def pair(cloud_processes, redis_url):
    """Two cloud processes of one cloud: one data directory (keys), database and Redis."""
    nodes = await cloud_processes(redis_url=redis_url)
    assert all(node.node.hub.bus.up for node in nodes)
    yield nodes
    forget(redis_url, nodes[0].node.hub.credentials.app_id)


async def order(server, demo, token):
    made = await server.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": pickup_item(demo), "quantity": 1}]},
        token=token)
    assert made.status == 201, made
    return made.body["order"]["id"]


async def received(sock, quiet=0.4):
    """Every message sock gets until it has been quiet for ``quiet`` seconds."""
    got = []
    while True:
        try:
            message = await sock.next(timeout=quiet)
        except asyncio.TimeoutError:
            return got
        assert message is not None, "closed"
        got.append(message)


async def received_through(sock, seq, timeout=10):
    """Every message sock gets until one numbered seq or later, and then until quiet."""
    got = []
    while not any(m.get("data", {}).get("seq", 0) >= seq for m in got
                  if isinstance(m.get("data"), dict)):
        message = await sock.next(timeout=timeout)
        assert message is not None, "closed"
        got.append(message)
    return got + await received(sock, quiet=0.3)


def numbered(messages):
    return [(m["event"], m["data"]["seq"]) for m in messages if "seq" in m]


def signed(hub, path, body):
    """A request of Pusher's publishing API, signed with the app's secret."""
    creds = hub.credentials
    query = {"auth_key": creds.key, "auth_timestamp": str(int(time.time())),
             "auth_version": "1.0", "body_md5": hashlib.md5(body).hexdigest()}
    text = "&".join("%s=%s" % kv for kv in sorted(query.items()))
    return "%s?%s&auth_signature=%s" % (path, text, channel_auth.signature(
        creds.secret, "POST\n%s\n%s" % (path, text)))


# --- Two processes in this one ------------------------------------------------------------

async def test_an_order_made_on_one_process_reaches_pusher_js_on_the_other(
        pair, node_clients, demo):
    a, b = pair
    result = await scenario("kitchen", a, base_b=b.url, branch_id=demo["branches"][D],
                            item_id=pickup_item(demo))
    assert result["event"]["order_id"] == result["created"]
    assert b.node.hub.subscriber_count(events.branch_channel("kots", demo["branches"][D])) \
        == 0 and a.node.hub.connections == {}       # the kitchen screen was on b alone


async def test_presence_and_whispers_cross_processes(pair, node_clients, demo):
    a, b = pair
    result = await scenario("presence", a, base_b=b.url, branch_id=demo["branches"][D])
    waiter, manager = demo["users"]["waiter@demo.test"], demo["users"]["manager@demo.test"]
    assert result["here"] == [{"name": "Sofia Martinez"}]
    # The manager, subscribing on b, is told of the waiter joined on a.
    assert sorted(m["name"] for m in result["here_b"]) == ["Daniel Kim", "Sofia Martinez"]
    assert result["joining"] == result["leaving"] == {"name": "Daniel Kim"}
    assert result["whispered"] == {"table": 7}
    assert result["members"]["count"] == 2        # asked at a: both processes' members
    assert {m["id"] for m in result["members"]["members"]} == {waiter, manager}


async def test_one_member_on_two_processes_leaves_when_the_last_connection_does(pair, demo):
    a, b = pair
    channel = "presence-floor.branch.%d" % demo["branches"][D]
    watcher = await socket_for(a, channel, await a.login("manager@demo.test"))
    waiter = await a.login("waiter@demo.test")
    here = await socket_for(a, channel, waiter)
    there = await Socket.open(b)
    await there.connected()
    answer = await there.subscribe(b, channel, waiter)
    assert answer["data"]["presence"]["count"] == 2
    assert (await watcher.expect("pusher_internal:member_added"))["data"]["user_id"] == \
        demo["users"]["waiter@demo.test"]
    here.close()
    for _ in range(100):
        if here.socket_id not in a.node.hub.connections:
            break
        await asyncio.sleep(0.02)
    # a sends after the waiter's leave: a member_removed would come before it.
    a.node.hub.publish(channel, "marker", {})
    got = []
    while not got or got[-1]["event"] != "marker":
        got.append(await watcher.next())
    assert [m["event"] for m in got] == ["marker"]      # still there, on b
    there.close()
    removed = await watcher.expect("pusher_internal:member_removed")
    assert removed["data"]["user_id"] == demo["users"]["waiter@demo.test"]
    watcher.close()


async def test_every_process_sees_events_in_one_order_and_replay_spans_them(pair, demo):
    a, b = pair
    channel = events.branch_channel("orders", demo["branches"][D])
    token = await a.login("waiter@demo.test")
    witnesses = [await socket_for(server, channel, token) for server in (a, b)]
    client = await socket_for(a, channel, token)
    await order(a, demo, token)
    seen = numbered(await received(client))
    assert seen, "no event reached the client"
    last_seq = seen[-1][1]
    client.close()
    await asyncio.gather(*[order(server, demo, token) for server in (a, b, a, b)])
    # Back, on the other process, with the last seq it saw on the first.
    back = await Socket.open(b)
    await back.connected()
    answer = await back.subscribe(b, channel, token, last_seq=last_seq)
    heard = [numbered(await received(w)) for w in witnesses]
    assert heard[0] == heard[1], "the processes delivered events in different orders"
    replayed = numbered(await received_through(back, heard[1][-1][1]))
    seqs = [seq for _, seq in heard[0]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    missed = [e for e in heard[0] if e[1] > last_seq]
    assert len([e for e in missed if e[0] == "order.created"]) == 4
    assert replayed == missed, ("not exactly what it missed", replayed, missed)
    # The shared counter (every channel's events are numbered by it) as b had it.
    assert seqs[-1] <= answer["data"]["seq"] == b.node.hub.seq == a.node.hub.seq
    # Live again, without doubles.
    await order(a, demo, token)
    after = numbered(await received(witnesses[1]))
    assert numbered(await received_through(back, after[-1][1])) == after
    assert after and after[0][1] > seqs[-1]
    for sock in witnesses + [back]:
        sock.close()


async def test_when_the_shared_history_no_longer_reaches_back_the_client_resyncs(
        cloud_processes, redis_url):
    a, b = await cloud_processes(redis_url=redis_url, replay_history=2)
    try:
        client = await socket_for(a, "news")
        a.node.hub.publish("news", "first", {})
        last_seq = (await client.expect("first"))["data"]["seq"]
        client.close()
        for n in range(3):            # one more than the history keeps
            a.node.hub.publish("news", "missed", {"n": n})
        back = await socket_for(b)
        await back.subscribe(b, "news", last_seq=last_seq)
        resync = await back.expect("branchline:resync")
        assert resync["data"] == {"last_seq": last_seq, "seq": b.node.hub.seq}
        # Within reach: exactly the two it missed, in order.
        await back.subscribe(b, "news", last_seq=last_seq + 1)
        assert [m["data"]["n"] for m in await received(back)] == [1, 2]
        back.close()
    finally:
        forget(redis_url, a.node.hub.credentials.app_id)


async def test_the_shared_history_is_bounded_in_bytes_as_a_lone_hubs_is(pair, redis_url):
    """A few hundred big events are not all kept in Redis: all channels' histories
    together stay within HISTORY_BYTES, as in a lone hub. A client that saw an event
    still kept gets the rest; one that saw only older ones is told to resync."""
    a, b = pair
    client = await socket_for(a, "news")
    a.node.hub.publish("news", "first", {})
    first = (await client.expect("first"))["data"]["seq"]
    client.close()
    for n in range(300):
        a.node.hub.publish("news", "big", {"n": n, "p": "x" * 8000})
    witness = await socket_for(b, "other")        # one order: "done" comes after them all
    a.node.hub.publish("other", "done", {})
    done = (await witness.expect("done", timeout=10))["data"]["seq"]
    witness.close()
    prefix = a.node.hub.bus.prefix
    shared = redis.Redis.from_url(redis_url)

    def held():
        return {key: shared.lrange(key, 0, -1) for key in shared.scan_iter(prefix + "h:*")}

    def size(histories):
        return sum(len(envelope) for envelopes in histories.values() for envelope in envelopes)
    try:
        histories = held()
        assert size(histories) <= hub_module.HISTORY_BYTES < 300 * 8000
        # What the bus counts is what Redis holds; lost (as before the bus counted), it
        # is counted afresh.
        assert int(shared.get(prefix + "hbytes")) == size(histories)
        shared.delete(prefix + "hbytes", prefix + "hb")
        a.node.hub.publish("other", "again", {})
        await eventually(lambda: shared.exists(prefix + "hbytes"), timeout=5)
        assert int(shared.get(prefix + "hbytes")) == size(held())
    finally:
        shared.close()
    news = [json.loads(envelope) for envelope in histories[(prefix + "h:news").encode()]]
    assert 3 < len(news) < a.node.hub.replay_history      # bytes bound it, not the count
    assert [e[0] for e in news] == sorted(e[0] for e in news) and news[-1][0] < done
    old = await socket_for(b)
    await old.subscribe(b, "news", last_seq=first)
    resync = await old.expect("branchline:resync")
    assert resync["data"] == {"last_seq": first, "seq": b.node.hub.seq}
    recent = await socket_for(b)
    await recent.subscribe(b, "news", last_seq=news[-3][0])
    assert [(m["data"]["seq"], m["data"]["n"]) for m in await received(recent)] == [
        (e[0], 298 + i) for i, e in enumerate(news[-2:])]
    old.close()
    recent.close()


async def test_data_crosses_processes_as_a_lone_hub_sends_it(pair, redis_url):
    """An object gets its seq (its own field of that name wins), other data goes as it
    is; so does an event kept in Redis before publishers said whether its data is an
    object (replayed after an upgrade)."""
    a, b = pair
    reader = await socket_for(b, "news")
    for data in ('{"n": 1}', "plain words", "[1, 2]", {"n": 2}, ["x"], ' {"seq": 7} '):
        a.node.hub.publish("news", "e", data)
    got = [m["data"] for m in await received(reader)]
    assert got == [{"seq": got[0]["seq"], "n": 1}, "plain words", [1, 2],
                   {"seq": got[3]["seq"], "n": 2}, ["x"], {"seq": 7}]
    reader.close()
    prefix = a.node.hub.bus.prefix
    shared = redis.Redis.from_url(redis_url)
    try:
        kept = shared.lrange(prefix + "h:news", 0, -1)
        seq, *old = json.loads(kept[0])[:5]
        shared.lset(prefix + "h:news", 0, json.dumps([seq, *old]))     # as kept before
    finally:
        shared.close()
    back = await socket_for(a)
    await back.subscribe(a, "news", last_seq=seq - 1)
    assert [m["data"] for m in await received(back)] == got
    back.close()


async def test_the_publishing_api_and_a_grant_reach_the_other_process(pair, demo):
    a, b = pair
    hub = a.node.hub
    author, reader = [await socket_for(b, "news") for _ in range(2)]
    body = json.dumps({"name": "menu-changed", "channel": "news", "data": '{"n": 1}',
                       "socket_id": author.socket_id}).encode()
    sent = await a.fetch("POST", signed(hub, "/apps/%s/events" % hub.credentials.app_id, body),
                         raw=body, prefix=False)
    assert sent.status == 200, sent
    assert (await reader.expect("menu-changed"))["data"]["n"] == 1
    assert [m for m in await received(author) if m["event"] == "menu-changed"] == []
    # Authorised at a for a socket on b: a logout at a ends that subscription on b.
    token = await a.login("waiter@demo.test")
    channel = events.user_channel(demo["users"]["waiter@demo.test"])
    resp = await a.fetch("POST", "/broadcasting/auth", {
        "socket_id": reader.socket_id, "channel_name": channel}, token=token, prefix=False)
    assert resp.status == 200, resp
    await asyncio.sleep(0.2)         # the grant crosses while the client reads the answer
    reader.send("pusher:subscribe", dict(resp.body, channel=channel))
    await reader.expect("pusher_internal:subscription_succeeded")
    assert (await a.fetch("POST", "/auth/logout", token=token)).status == 200
    ended = await reader.expect("pusher:error", timeout=5)
    assert ended["data"]["code"] == 4009
    author.close()
    reader.close()


async def test_a_device_connected_to_one_process_is_not_pushed_to_by_another(pair, demo):
    """Push skips a phone that is connected (it has the event already): worker 0 sends
    every push, so it must know the devices connected to every process."""
    a, b = pair
    token = await b.login("waiter@demo.test")
    channel = events.user_channel(demo["users"]["waiter@demo.test"])
    phone = await socket_for(b)
    await phone.subscribe(a, channel, token, device_id="phone-1")   # authorised at a
    await eventually(lambda: a.node.hub.devices_connected([channel]), timeout=5)
    assert await a.node.hub.devices_connected([channel]) == {channel: {"phone-1"}}
    assert a.node.hub.connected_devices(channel) == set()       # not a's own socket
    phone.close()

    async def gone():
        return not (await a.node.hub.devices_connected([channel]))[channel]
    await eventually(gone, timeout=5)


async def test_redis_keeps_only_the_devices_connected_now(pair, demo, redis_url):
    """Devices come and go on both processes: what Redis keeps of them (and what push
    reads, every channel at once) is the devices connected now, and a process started
    again under a killed one's identity takes its predecessor's devices away."""
    a, b = pair
    waiter, manager = demo["users"]["waiter@demo.test"], demo["users"]["manager@demo.test"]
    mine, theirs = events.user_channel(waiter), events.user_channel(manager)
    waiter_token, manager_token = [await a.login(user) for user in (
        "waiter@demo.test", "manager@demo.test")]
    phones = []
    for n in range(3):                  # the waiter's phones: on b, a, b
        phone = await socket_for(b if n % 2 == 0 else a)
        await phone.subscribe(a, mine, waiter_token, device_id="phone-%d" % n)
        phones.append(phone)
    tablet = await socket_for(a)
    await tablet.subscribe(b, theirs, manager_token, device_id="tablet")
    everyone = {mine: {"phone-0", "phone-1", "phone-2"}, theirs: {"tablet"}}

    async def devices(expected):
        for hub in (a.node.hub, b.node.hub):
            if await hub.devices_connected([mine, theirs]) != expected:
                return False
        return True
    await eventually(lambda: devices(everyone), timeout=5)
    phones[0].close()
    phones[1].close()
    await eventually(lambda: devices({mine: {"phone-2"}, theirs: {"tablet"}}), timeout=5)
    shared = redis.Redis.from_url(redis_url)
    prefix = a.node.hub.bus.prefix

    def kept():
        return ({key.decode()[len(prefix):]: {v.decode() for v in shared.hvals(key)}
                 for key in shared.scan_iter(prefix + "dev:*")},
                {key.decode()[len(prefix):]: {v.decode() for v in shared.smembers(key)}
                 for key in shared.scan_iter(prefix + "dv:*")})
    try:
        assert kept() == ({"dev:" + mine: {"phone-2"}, "dev:" + theirs: {"tablet"}}, {
            "dv:" + b.node.hub.bus.identity: {"%s\n%s" % (mine, phones[2].socket_id)},
            "dv:" + a.node.hub.bus.identity: {"%s\n%s" % (theirs, tablet.socket_id)}})
        # a killed with kill -9 and started again: its successor holds no device yet,
        # nor any a said before Redis kept its own list of them ("devch:", the channels).
        identity = a.node.hub.bus.identity
        shared.hset(prefix + "dev:" + theirs, identity + " 1.2", "ghost")
        shared.sadd(prefix + "devch:" + identity, theirs)
        successor = Hub(a.node.hub.credentials)
        successor.bus = RedisBus(successor, redis_url, identity, prefix)
        await successor.start()
        assert await successor.devices_connected([mine, theirs]) == {
            mine: {"phone-2"}, theirs: set()}
        await successor.stop()
        assert kept() == ({"dev:" + mine: {"phone-2"}}, {
            "dv:" + b.node.hub.bus.identity: {"%s\n%s" % (mine, phones[2].socket_id)}})
    finally:
        shared.close()
    phones[2].close()
    tablet.close()


async def test_a_process_gone_for_good_leaves_no_ghosts(
        pair, tmp_path, postgres_cloud_database, redis_url, demo):
    """A process killed with kill -9 that never comes back (its host is gone): once Redis
    has dropped its connection, the others let its members leave (a new subscriber does
    not see them, a subscriber gets ``member_removed`` within a connection sweep of its
    own process) and push counts its devices no longer."""
    a, b = pair
    port = free_port()
    gone = NodeProcess("cloud", str(tmp_path / "cloud"), port, "--database-url",
                       postgres_cloud_database, "--redis-url", redis_url)
    http = Http()
    gone.start()
    shared = redis.Redis.from_url(redis_url)
    try:
        await gone.ready(http)
        remote = Remote(port, a.node.hub.credentials.key)
        channel = "presence-floor.branch.%d" % demo["branches"][D]
        waiter, manager = demo["users"]["waiter@demo.test"], demo["users"]["manager@demo.test"]
        mine = events.user_channel(waiter)
        watcher = await socket_for(a, channel, await a.login("manager@demo.test"))
        token = await a.login("waiter@demo.test")
        there, phone = [await Socket.open(remote, key=remote.key) for _ in range(2)]
        await there.connected()
        await phone.connected()
        await there.subscribe(a, channel, token)             # authorised at a
        await phone.subscribe(a, mine, token, device_id="phone-1")
        assert (await watcher.expect("pusher_internal:member_added"))["data"]["user_id"] \
            == waiter

        async def devices():
            return (await a.node.hub.devices_connected([mine]))[mine]
        assert await eventually(devices, timeout=5) == {"phone-1"}
        await gone.kill()
        listening = a.node.hub.bus.prefix + "to:" + identity(port, 0)
        await eventually(lambda: shared.pubsub_numsub(listening)[0][1] == 0, timeout=5)
        newcomer = await Socket.open(b)
        await newcomer.connected()
        answer = await newcomer.subscribe(b, channel, await b.login("manager@demo.test"))
        assert answer["data"]["presence"]["ids"] == [manager]
        removed = await watcher.expect("pusher_internal:member_removed", timeout=10)
        assert removed["data"]["user_id"] == waiter
        assert [m["id"] for m in await a.node.hub.members(channel)] == [manager]
        assert await devices() == set()
        watcher.close()
        newcomer.close()
    finally:
        shared.close()
        http.close()
        await gone.stop()


# --- Redis going away ---------------------------------------------------------------------

class PrivateRedis:
    """A redis-server of this test's own, on a free port, that the test may stop."""

    def __init__(self, tmp_path):
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.url = "redis://127.0.0.1:%d/0" % self.port
        self.dir = str(tmp_path)
        self.proc = None

    async def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir], stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        try:
            for _ in range(100):
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    await asyncio.sleep(0.05)
        finally:
            client.close()
        raise AssertionError("redis-server did not start")

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


async def test_without_redis_each_process_serves_its_own_then_they_meet_again(
        cloud_processes, tmp_path, redis_url, demo):
    private = PrivateRedis(tmp_path)
    if private.binary is None:
        pytest.skip("no redis-server binary to start a Redis of the test's own")
    await private.start()
    try:
        a, b = await cloud_processes(redis_url=private.url)
        channel = events.branch_channel("orders", demo["branches"][D])
        token = await a.login("waiter@demo.test")
        on_a, on_b = await socket_for(a, channel, token), await socket_for(b, channel, token)
        private.stop()
        for _ in range(100):
            if not a.node.hub.bus.up and not b.node.hub.bus.up:
                break
            await asyncio.sleep(0.05)
        made = await order(a, demo, token)          # no 500: a serves its own alone
        said = await a.fetch("GET", "/pusher/diagnostics", token=token)
        assert said.body["data"]["realtime_bus"] == "down", said
        assert (await on_a.expect("order.created"))["data"]["order_id"] == made
        assert all(m["event"] != "order.created" for m in await received(on_b))
        await private.start()
        for _ in range(200):
            if a.node.hub.bus.up and b.node.hub.bus.up:
                break
            await asyncio.sleep(0.05)
        assert a.node.hub.bus.up and b.node.hub.bus.up, "the bus did not come back"
        said = await b.fetch("GET", "/pusher/diagnostics", token=token)
        assert said.body["data"]["realtime_bus"] == "up", said
        assert (await on_b.expect("branchline:resync"))["channel"] == channel
        made = await order(a, demo, token)
        assert (await on_b.expect("order.created"))["data"]["order_id"] == made
        on_a.close()
        on_b.close()
    finally:
        private.stop()


# --- Two worker processes for real --------------------------------------------------------

class Remote:
    """A cloud process seen from outside, for test_realtime's Socket."""

    def __init__(self, port, key):
        self.port, self.key = port, key


async def test_two_workers_share_events_and_a_killed_ones_members_leave(
        tmp_path, postgres_cloud_database, redis_url, demo):
    port = free_port()
    cloud = NodeProcess("cloud", str(tmp_path / "cloud"), port, "--workers", "2",
                        "--database-url", postgres_cloud_database, "--redis-url", redis_url)
    http = Http()
    cloud.start()
    try:
        await cloud.ready(http)
        with open(tmp_path / "cloud" / "keys" / "pusher.json") as fh:
            creds = json.load(fh)
        remote = Remote(port, creds["key"])
        pids = workers(cloud.proc)
        assert len(pids) == 2
        code, login = await http.call(port, "POST", API + "/auth/login", {
            "email": "waiter@demo.test", "password": "demo12345"})
        assert code == 200, login
        token = login["data"]["access_token"]
        channel = "presence-floor.branch.%d" % demo["branches"][D]

        async def subscribed(sock, who):
            code, signed_ = await http.call(port, "POST", "/broadcasting/auth", {
                "socket_id": sock.socket_id, "channel_name": channel}, token=who)
            assert code == 200, signed_
            sock.send("pusher:subscribe", dict(signed_, channel=channel))
            return await sock.expect("pusher_internal:subscription_succeeded")

        # A socket on each worker (the kernel spreads connections over their sockets by
        # hash; the cloud answers as soon as one is up, the other may still be starting).
        held = {}
        deadline = time.monotonic() + 30
        while len(held) < 2 and time.monotonic() < deadline:
            sock = await Socket.open(remote, key=remote.key)
            await sock.connected()
            pid = worker_of(sock.conn.stream.socket.getsockname()[1], port, pids)
            if pid in held:
                sock.close()
                await asyncio.sleep(0.1)
                continue
            held[pid] = sock
        assert len(held) == 2, "every connection went to one worker for 30 s"
        victim, survivor = pids
        code, other = await http.call(port, "POST", API + "/auth/login", {
            "email": "manager@demo.test", "password": "demo12345"})
        await subscribed(held[survivor], other["data"]["access_token"])
        answer = await subscribed(held[victim], token)
        assert answer["data"]["presence"]["count"] == 2       # the survivor's member too
        added = await held[survivor].expect("pusher_internal:member_added")
        assert added["data"]["user_id"] == demo["users"]["waiter@demo.test"]
        # The publishing API, on whichever worker takes it, reaches both.
        body = json.dumps({"name": "menu-changed", "channel": channel,
                           "data": {"n": 1}}).encode()
        hub = type("H", (), {"credentials": channel_auth.Credentials(
            creds["app_id"], creds["key"], creds["secret"])})
        for sock in held.values():
            resp = await http.client.fetch(
                "http://127.0.0.1:%d%s" % (port, signed(hub, "/apps/%s/events"
                                                        % creds["app_id"], body)),
                method="POST", body=body, raise_error=False,
                headers={"Content-Type": "application/json"})
            assert resp.code == 200, resp.body
        for sock in held.values():
            assert [(await sock.expect("menu-changed"))["data"]["n"] for _ in range(2)] \
                == [1, 1]
        # kill -9 of the waiter's worker: started again, it lets the waiter leave.
        os.kill(victim, signal.SIGKILL)
        removed = await held[survivor].expect("pusher_internal:member_removed", timeout=20)
        assert removed["data"]["user_id"] == demo["users"]["waiter@demo.test"]
        assert victim not in workers(cloud.proc)
        for sock in held.values():
            sock.close()
    finally:
        http.close()
        await cloud.stop()
        with open(tmp_path / "cloud" / "keys" / "pusher.json") as fh:
            forget(redis_url, json.load(fh)["app_id"])
