"""Realtime events across the cloud's processes: their hubs share one Redis.

A cloud of several processes (``--workers``, or several hosts behind one address) gives
every client the same realtime picture whichever process its WebSocket landed on, as
Laravel Reverb and Soketi do when they scale out: with ``redis_url`` set, each process's
hub (protocol/realtime/hub.py) publishes through this bus and fans out what Redis
delivers. Without it (an edge, a lone cloud, the demo's default) nothing here runs.

- Order: every event is numbered by a Lua script run atomically in Redis (INCR of one
  shared counter), kept in its channel's history there and PUBLISHed, in that same
  order, on one pub/sub channel every process listens to. Each process builds the
  Pusher frame once and writes it to its own subscribers. A process sends its own
  work through one queue drained by one task, batched into a pipeline: what it
  publishes stays in the order it published it. The counter never goes below a
  process's own (its start time in microseconds, or the last number it saw), so numbers
  keep rising if Redis lost its data.
- Replay: each channel's last ``replay_history`` events and its floor (the newest seq
  no longer kept) live in Redis, for at most ``HISTORY_CHANNELS`` channels (the least
  recently published goes, raising ``forgotten``) and ``HISTORY_BYTES`` of envelopes in
  all (counted beside them), as a lone hub keeps its frames.
- A subscription that needs Redis (presence, or replay with ``last_seq``) runs one
  script that joins, reads the members and history, and PUBLISHes the answer on this
  process's own pub/sub channel. Redis delivers a connection's messages in the order
  they were published, so when the answer arrives every event published before it
  has arrived too: the hub sends the answer, the history the client missed, then the
  live events it kept meanwhile, without gap or double.
- Presence: a member counts once per process holding it (a set per process identity
  and a count of processes per member); ``member_added`` and ``member_removed`` go out
  only on the first join and last leave anywhere. A process killed with kill -9 cannot
  say goodbye, so its identity is its host, port and worker number: the worker started
  again under that number (protocol/process.py does so at once) replaces its
  predecessor's share at start (``reconcile``), and the members only it held leave.
- A process gone for good (killed and not started again, its host lost): a process is
  alive while a connection of its own listens on its channel (``to:`` its identity).
  Redis drops a killed process's connections at once (its kernel closes them) and a lost
  host's after TCP keepalive (Redis's ``tcp-keepalive``, 300 s by default), so a process
  in the set of identities (``ids``) that no connection listens for is gone: its members
  leave as a stopping process's do (``member_removed`` for those only it held) and its
  devices go (``bury``, in the scripts). Processes bury the dead before they read members
  or devices (a presence subscription, the users API, push's plan), when one starts,
  and at their hub's connection sweep while they have presence members, so a
  subscriber sees a ghost leave within a sweep (5 s at most). We chose this over leases
  renewed on a timer: nothing ticks on an idle cloud.
- Channel auth and client events: a grant for a socket on another process and a
  ``client-*`` event travel over the same pub/sub channel.
- Connected devices: a socket that said its device (at channel auth) is written in its
  channel's device hash, under this process's identity, while it is subscribed; push
  (sent by worker 0 alone) skips the devices of every process (``devices``). A worker
  started again under its identity replaces its predecessor's share, as for presence.
- Redis away: the process logs it and serves its own subscribers alone (numbering
  from its own counter, its local history and members), retrying with the project's
  backoff. Back, it puts its share of presence right and tells each of its channels
  to resync (``branchline:resync``): they may have missed other processes' events.

Keys, all under ``branchline:<app id>:`` (two clouds on one Redis never meet; not for
Redis Cluster: the scripts touch keys they compute).
"""

import asyncio
import logging
import socket

import orjson

from protocol import wire
from protocol.realtime.hub import (HISTORY_BYTES, HISTORY_CHANNELS, frame, is_object,
                                   seq_first, with_seq)
from sync.backoff import Backoff

try:
    import redis.asyncio as aioredis
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
    from redis.asyncio.retry import Retry
except ImportError:         # the ``redis`` extra: only a scaled cloud needs it
    aioredis = None
    RedisError = OSError

log = logging.getLogger("branchline.realtime.bus")

CONNECT_TIMEOUT = 3          # seconds to reach Redis before serving alone
STOP_TIMEOUT = 3             # seconds to send what is queued when stopping
BATCH = 512                  # queued operations sent in one pipeline

# Numbers pass through string.format('%d'): Lua's own conversion writes 16 digits
# in exponent notation.
_PRELUDE = r"""
local P = ARGV[1]
local function n(x) return string.format('%d', x) end
local function join(ch, id, key, member, removed, added)
  if redis.call('SADD', P..'pm:'..id, ch..'\n'..key) == 1 then
    if redis.call('HINCRBY', P..'m:'..ch, key, 1) == 1 then
      redis.call('HSET', P..'mi:'..ch, key, member)
      redis.call('HSET', P..'mr:'..ch, key, removed)
      redis.call('PUBLISH', P..'bus', added)
    end
  end
end
local function leave(ch, id, key)
  if redis.call('SREM', P..'pm:'..id, ch..'\n'..key) == 1 then
    if redis.call('HINCRBY', P..'m:'..ch, key, -1) <= 0 then
      local removed = redis.call('HGET', P..'mr:'..ch, key)
      redis.call('HDEL', P..'m:'..ch, key)
      redis.call('HDEL', P..'mi:'..ch, key)
      redis.call('HDEL', P..'mr:'..ch, key)
      if removed then redis.call('PUBLISH', P..'bus', removed) end
    end
  end
end
local function leave_all(id, keep)     -- id's members leave, but those in keep
  for _, field in ipairs(redis.call('SMEMBERS', P..'pm:'..id)) do
    if not keep[field] then
      local ch, key = string.match(field, '^(.*)\n([^\n]*)$')
      leave(ch, id, key)
    end
  end
end
local function drop_devices(id)        -- what id wrote of its sockets' devices goes
  for _, field in ipairs(redis.call('SMEMBERS', P..'dv:'..id)) do
    local ch, socket = string.match(field, '^(.*)\n([^\n]*)$')
    redis.call('HDEL', P..'dev:'..ch, id..' '..socket)
  end
  redis.call('DEL', P..'dv:'..id)
  for _, ch in ipairs(redis.call('SMEMBERS', P..'devch:'..id)) do   -- written before 'dv:' was
    for _, field in ipairs(redis.call('HKEYS', P..'dev:'..ch)) do
      if string.sub(field, 1, #id + 1) == id..' ' then redis.call('HDEL', P..'dev:'..ch, field) end
    end
  end
  redis.call('DEL', P..'devch:'..id)
end
local function bury(me)    -- a process no connection listens for any more is gone: its share goes
  for _, id in ipairs(redis.call('SMEMBERS', P..'ids')) do
    if id ~= me and redis.call('PUBSUB', 'NUMSUB', P..'to:'..id)[2] == 0 then
      leave_all(id, {})
      drop_devices(id)
      redis.call('SREM', P..'ids', id)
    end
  end
end
"""

# ARGV: prefix, channel, the envelope after its seq, history size, channels kept, least seq,
# bytes kept. The rule of Hub._remember over what Redis holds: a channel keeps its last
# events, all together at most the bytes kept (the least recently published channel's
# oldest go first, a channel down to its one event goes whole).
PUBLISH = _PRELUDE + r"""
local ch, least, budget = ARGV[2], tonumber(ARGV[6]), tonumber(ARGV[7])
local function trim(name)         -- name's oldest event goes; it becomes name's floor
  local oldest = redis.call('LPOP', P..'h:'..name)
  redis.call('HSET', P..'floor', name, string.match(oldest, '^%[(%d+),'))
  redis.call('HINCRBY', P..'hb', name, -#oldest)
  redis.call('DECRBY', P..'hbytes', #oldest)
end
local function drop(name, last)   -- name's history goes whole; last: its newest seq
  redis.call('ZREM', P..'channels', name)
  redis.call('DEL', P..'h:'..name)
  redis.call('HDEL', P..'floor', name)
  redis.call('DECRBY', P..'hbytes', redis.call('HGET', P..'hb', name) or '0')
  redis.call('HDEL', P..'hb', name)
  if tonumber(last) > tonumber(redis.call('GET', P..'forgotten') or '0') then
    redis.call('SET', P..'forgotten', n(tonumber(last)))
  end
end
if redis.call('EXISTS', P..'hbytes') == 0 then    -- histories kept before bytes were counted
  local total = 0
  redis.call('DEL', P..'hb')
  for _, name in ipairs(redis.call('ZRANGE', P..'channels', 0, -1)) do
    local size = 0
    for _, kept in ipairs(redis.call('LRANGE', P..'h:'..name, 0, -1)) do size = size + #kept end
    redis.call('HSET', P..'hb', name, n(size))
    total = total + size
  end
  redis.call('SET', P..'hbytes', n(total))
end
local seq = redis.call('INCR', P..'seq')
if seq <= least then
  seq = least + 1
  redis.call('SET', P..'seq', n(seq))
  redis.call('SET', P..'forgotten', n(least))
end
local envelope = '[' .. n(seq) .. ',' .. ARGV[3]
if not redis.call('ZSCORE', P..'channels', ch) then
  redis.call('HSET', P..'floor', ch, redis.call('GET', P..'forgotten') or n(least))
end
redis.call('ZADD', P..'channels', n(seq), ch)
if redis.call('RPUSH', P..'h:'..ch, envelope) > tonumber(ARGV[4]) then trim(ch) end
redis.call('HINCRBY', P..'hb', ch, #envelope)
local kept = redis.call('INCRBY', P..'hbytes', #envelope)
if redis.call('ZCARD', P..'channels') > tonumber(ARGV[5]) then
  local old = redis.call('ZRANGE', P..'channels', 0, 0, 'WITHSCORES')
  drop(old[1], old[2])
  kept = tonumber(redis.call('GET', P..'hbytes'))
end
while kept > budget do
  local old = redis.call('ZRANGE', P..'channels', 0, 0, 'WITHSCORES')
  if not old[1] then              -- counts astray (keys evicted by Redis): count afresh
    redis.call('DEL', P..'hbytes')
    break
  end
  if redis.call('LLEN', P..'h:'..old[1]) <= 1 then drop(old[1], old[2]) else trim(old[1]) end
  kept = tonumber(redis.call('GET', P..'hbytes'))
end
redis.call('PUBLISH', P..'bus', envelope)
return seq
"""

# ARGV: prefix, channel, "socket-id token", identity, joins (0/1), key, member, removed, added,
# wants members (0/1), wants history (0/1)
SUBSCRIBE = _PRELUDE + r"""
local ch, id = ARGV[2], ARGV[4]
if ARGV[5] == '1' then join(ch, id, ARGV[6], ARGV[7], ARGV[8], ARGV[9]) end
local answer = {c = ch, s = ARGV[3]}
if ARGV[10] == '1' then
  bury(id)
  answer.m = redis.call('HVALS', P..'mi:'..ch)
end
if ARGV[11] == '1' then
  answer.f = redis.call('HGET', P..'floor', ch) or redis.call('GET', P..'forgotten')
  answer.h = redis.call('LRANGE', P..'h:'..ch, 0, -1)
end
redis.call('PUBLISH', P..'to:'..id, cjson.encode(answer))
return 1
"""

# ARGV: prefix, channel, identity, key
LEAVE = _PRELUDE + r"""
leave(ARGV[2], ARGV[3], ARGV[4])
return 1
"""

# ARGV: prefix, identity, then (channel, key, member, removed, added) per member held.
# The identities of a cloud older than their set ('ids') are found once, by name.
RECONCILE = _PRELUDE + r"""
local id = ARGV[2]
if redis.call('EXISTS', P..'ids') == 0 then
  local glob = string.gsub(P, '[%*%?%[%]\\]', '\\%0')
  for _, kind in ipairs({'pm:', 'dv:', 'devch:'}) do
    for _, key in ipairs(redis.call('KEYS', glob..kind..'*')) do
      redis.call('SADD', P..'ids', string.sub(key, #P + #kind + 1))
    end
  end
end
redis.call('SADD', P..'ids', id)
local keep = {}
for i = 3, #ARGV, 5 do keep[ARGV[i]..'\n'..ARGV[i + 1]] = true end
leave_all(id, keep)
for i = 3, #ARGV, 5 do
  join(ARGV[i], id, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4])
end
bury(id)
return 1
"""

# ARGV: prefix, identity, then (channel, socket id, device id) per socket here that said
# its device. What this identity wrote (its set of "channel\nsocket id") goes, these come.
DEVICES = _PRELUDE + r"""
local id = ARGV[2]
drop_devices(id)
for i = 3, #ARGV, 3 do
  redis.call('HSET', P..'dev:'..ARGV[i], id..' '..ARGV[i + 1], ARGV[i + 2])
  redis.call('SADD', P..'dv:'..id, ARGV[i]..'\n'..ARGV[i + 1])
end
return 1
"""

# ARGV: prefix, identity
BURY = _PRELUDE + r"""
bury(ARGV[2])
return 1
"""

SCRIPTS = {"publish": PUBLISH, "subscribe": SUBSCRIBE, "leave": LEAVE, "reconcile": RECONCILE,
           "devices": DEVICES, "bury": BURY}


def identity(port, worker):
    """Who this process is across restarts: its host, port and worker number."""
    return "%s:%d:%d" % (socket.gethostname(), port, worker)


def _member_envelopes(channel, member):
    """(member text, removed envelope, added envelope) of member [user_id, user_info]."""
    user_id, info = member
    added = frame("pusher_internal:member_added", channel, {"user_id": user_id,
                                                           "user_info": info}).decode()
    removed = frame("pusher_internal:member_removed", channel, {"user_id": user_id}).decode()
    return (wire.dumps([user_id, info]), wire.dumps(["u", channel, removed, None]),
            wire.dumps(["u", channel, added, None]))


def _numbered(envelope):
    """(seq, channel, event, data text with its seq, exclude) of a numbered event's
    envelope (one kept in Redis from before publishers said whether its data takes a
    seq has a field less: its data is looked at here)."""
    seq, channel, event, text, exclude, *takes_seq = orjson.loads(envelope)
    if not takes_seq:
        return seq, channel, event, with_seq(text, seq), exclude
    return seq, channel, event, seq_first(text, seq) if takes_seq[0] else text, exclude


class RedisBus:
    """The bus of one process's hub (the interface hub.py describes)."""

    def __init__(self, hub, url, identity, prefix):
        if aioredis is None:
            raise RuntimeError("redis_url needs the redis package: pip install "
                               "'branchline[redis]'")
        self.hub, self.url, self.identity = hub, url, identity
        self.prefix = prefix
        self.up = False
        self._redis = self._pubsub = None
        self._queue = self._drainer = self._listener = None
        self._sha = {}
        self._first = None            # set once the first attempt to connect is over
        self._stopping = False

    # --- What the hub calls -------------------------------------------------------------

    def publish(self, channel, event, data, exclude):
        # Whether the data takes a seq is said once, here: every process splices it in
        # (``_numbered``) without parsing the data again.
        if isinstance(data, str):
            text, takes_seq = data, is_object(data)
        else:
            text, takes_seq = wire.dumps(data), isinstance(data, dict)
        tail = wire.dumps([channel, event, text, exclude, takes_seq])[1:]
        self._queue.put_nowait(("publish", (channel, tail, self.hub.replay_history,
                                            HISTORY_CHANNELS), (channel, event, text, exclude)))

    def relay(self, channel, message, exclude):
        envelope = wire.dumps(["u", channel, message.decode(), exclude])
        self._queue.put_nowait(("send", envelope, (channel, message, exclude)))

    def subscribe(self, channel, socket_id, token, first, wants_members, wants_history):
        joins = ("1", str(first[0]), *_member_envelopes(channel, first)) if first else (
            "0", "", "", "", "")
        self._queue.put_nowait(("subscribe", (channel, "%s %d" % (socket_id, token),
                                              self.identity, *joins,
                                              "1" if wants_members else "0",
                                              "1" if wants_history else "0"), None))

    def leave(self, channel, key):
        self._queue.put_nowait(("leave", (channel, self.identity, key), None))

    def grant(self, socket_id, channel, jti, device_id):
        self._queue.put_nowait(("send", wire.dumps(["g", socket_id, channel, jti, device_id]),
                                None))

    def device(self, channel, socket_id, device_id):
        """A socket here subscribed to channel says it is device_id (None: it left)."""
        self._queue.put_nowait(("device", (channel, socket_id, device_id), None))

    async def devices(self, channels):
        """{channel: device ids of its sockets on every process (of those alive: ``bury``)},
        read in one round trip; None if Redis does not answer (push then skips only the
        devices connected here)."""
        found = await self._read_alive("dev:", channels)
        return None if found is None else {
            channel: {device.decode() for device in devices}
            for channel, devices in zip(channels, found)}

    async def members(self, channel):
        """[user_id, user_info] of channel's members on every process (alive); None if
        Redis does not answer."""
        found = await self._read_alive("mi:", [channel])
        return None if found is None else [orjson.loads(m) for m in found[0]]

    def bury(self):
        """Take away the share of every process gone for good (``bury`` in the scripts):
        the hub asks while it has presence subscribers, at its connection sweep."""
        self._queue.put_nowait(("bury", (self.identity,), None))

    async def _read_alive(self, kind, channels):
        """The values of the hashes ``kind + channel``, once the processes gone are buried."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.evalsha(self._sha["bury"], 0, self.prefix, self.identity)
        for channel in channels:
            pipe.hvals(self.prefix + kind + channel)
        found = await self._answered(pipe.execute())
        return None if found is None else found[1:]

    async def _answered(self, request):
        """What Redis answers to request (awaitable); None if it does not answer."""
        try:
            return await asyncio.wait_for(request, CONNECT_TIMEOUT)
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return None

    async def start(self):
        """Connect (at most CONNECT_TIMEOUT seconds; then go on alone and keep trying),
        replace a predecessor's presence, listen."""
        self._queue = asyncio.Queue()
        self._first = asyncio.Event()
        self._redis = aioredis.from_url(self.url, socket_connect_timeout=CONNECT_TIMEOUT,
                                        socket_keepalive=True, retry=Retry(NoBackoff(), 0))
        self._drainer = asyncio.create_task(self._drain())
        self._listener = asyncio.create_task(self._listen())
        await self._first.wait()

    async def stop(self):
        """Send what is queued (members leaving), then disconnect."""
        self._stopping = True
        done = asyncio.Event()
        self._queue.put_nowait(("done", done, None))
        try:
            await asyncio.wait_for(done.wait(), STOP_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("realtime bus: stopped before Redis took what was queued")
        for task in (self._drainer, self._listener):
            task.cancel()
        await asyncio.gather(self._drainer, self._listener, return_exceptions=True)
        self.up = False
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self._redis.aclose()

    # --- Sending --------------------------------------------------------------------------

    async def _drain(self):
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            if self.up:
                try:
                    await self._send(batch)
                    continue
                except (RedisError, OSError) as exc:
                    self._lost(exc)
                except Exception:       # noqa: BLE001 - a bug must not stop publishing
                    log.exception("realtime bus: sending failed")
                    batch = [item for item in batch if item[0] == "done"]
            for kind, args, local in batch:     # alone: this process's subscribers only
                if kind == "publish":       # the bus is down: the hub numbers it
                    self.hub.publish(*local)
                elif kind == "send" and local is not None:
                    self.hub.deliver_unnumbered(*local)
                elif kind == "done":
                    args.set()

    async def _send(self, batch):
        pipe = self._redis.pipeline(transaction=False)
        for kind, args, _ in batch:
            if kind == "send":
                pipe.publish(self.prefix + "bus", args)
            elif kind == "device":
                self._device(pipe, *args)
            elif kind == "publish":
                pipe.evalsha(self._sha[kind], 0, self.prefix, *args, self.hub.seq,
                             HISTORY_BYTES)
            elif kind != "done":
                pipe.evalsha(self._sha[kind], 0, self.prefix, *args)
        if len(pipe):
            await pipe.execute()
        for kind, args, _ in batch:
            if kind == "done":
                args.set()

    def _device(self, pipe, channel, socket_id, device_id):
        # Fields named by process identity and socket, and this identity's set of what it
        # wrote (while it is there), so that its successor can take its share away.
        field, mine = "%s %s" % (self.identity, socket_id), self.prefix + "dv:" + self.identity
        if device_id is None:
            pipe.hdel(self.prefix + "dev:" + channel, field)
            pipe.srem(mine, "%s\n%s" % (channel, socket_id))
        else:
            pipe.hset(self.prefix + "dev:" + channel, field, device_id)
            pipe.sadd(mine, "%s\n%s" % (channel, socket_id))

    # --- Listening ------------------------------------------------------------------------

    async def _listen(self, delay=0):
        backoff = Backoff()
        await asyncio.sleep(delay)
        while not self._stopping:
            try:
                await self._connect()
                backoff.success()
                async for message in self._pubsub.listen():
                    if message["type"] == "message":
                        try:
                            self._receive(message["data"])
                        except Exception:     # noqa: BLE001 - one bad message, not all
                            log.exception("realtime bus: cannot take %r", message["data"][:200])
                raise ConnectionError("the subscription ended")
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._lost(exc)
                self._first.set()
                await asyncio.sleep(backoff.failure())

    async def _connect(self):
        for name, script in SCRIPTS.items():
            self._sha[name] = await self._redis.script_load(script)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        self._pubsub = self._redis.pubsub()
        await self._pubsub.subscribe(self.prefix + "bus", self.prefix + "to:" + self.identity)
        confirmed = 0
        while confirmed < 2:    # listening now: any process's ``bury`` sees this one alive
            message = await self._pubsub.get_message(timeout=CONNECT_TIMEOUT)
            if message is None:
                raise ConnectionError("Redis did not confirm the subscription")
            confirmed += message["type"] == "subscribe"
        while True:       # this process's presence as it is now (first: none)
            held = self.hub.local_members()
            args = []
            for channel, key, member in held:
                args += [channel, key, *_member_envelopes(channel, member)]
            await self._redis.evalsha(self._sha["reconcile"], 0, self.prefix, self.identity,
                                      *args)
            if self.hub.local_members() == held:
                break
        while True:       # and its devices (a change meanwhile: again)
            devices = self.hub.local_devices()
            await self._redis.evalsha(self._sha["devices"], 0, self.prefix, self.identity,
                                      *[value for device in devices for value in device])
            if self.hub.local_devices() == devices:
                break
        back = self._first.is_set()
        self.up = True
        self._first.set()
        if back:
            log.warning("realtime bus: Redis at %s is back; events cross processes again",
                        self.url)
            self.hub.bus_changed(True)
        else:
            log.info("realtime bus: Redis at %s (process %s)", self.url, self.identity)

    def _lost(self, exc):
        if not self.up:
            return
        self.up = False
        log.warning("realtime bus: Redis at %s unreachable (%s): this process serves its "
                    "own subscribers alone until it is back", self.url, exc)
        self.hub.bus_changed(False)
        if self._listener is not None and self._listener is not asyncio.current_task():
            # The command failed, not (yet) the subscription: listen again from scratch.
            self._listener.cancel()
            self._listener = asyncio.create_task(self._listen(Backoff().failure()))

    def _receive(self, data):
        hub = self.hub
        if data[1:2].isdigit():
            hub.deliver(*_numbered(data))
            return
        message = orjson.loads(data)
        if isinstance(message, dict):           # the answer to a subscription of ours
            self._answer(message)
        elif message[0] == "u":
            hub.deliver_unnumbered(message[1], message[2].encode(), message[3])
        elif message[0] == "g":
            hub.grant_local(*message[1:])

    def _answer(self, answer):
        channel = answer["c"]
        members = answer.get("m")
        history = None
        if "h" in answer:
            floor = answer.get("f")
            events = []
            for envelope in answer["h"] or ():
                seq, name, event, text, _ = _numbered(envelope)
                events.append((seq, frame(event, name, text, seq=seq)))
            history = (int(floor) if floor else self.hub.seq, events)
        socket_id, token = answer["s"].split()
        self.hub.subscribed(channel, socket_id, int(token), [
            orjson.loads(m) for m in members or ()] if members is not None else None, history)
