"""A node's realtime hub: connections, channels, presence members, replay history, fan-out.

The hub lives on the event loop's thread (``publish_events`` hops there from any other).
A connection is any object with the ``Connection`` attributes and ``send(bytes)`` /
``close_with(code, reason)`` (the Pusher WebSocket handler is one). Messages are Pusher
protocol 7 frames, encoded once per event and written to every subscriber without waiting:

- A subscriber's send buffer is bounded (``SEND_BUFFER_BYTES``, enforced by its socket);
  one that overflows is cut off with close code 4101 and catches up by replay when it
  comes back, so a slow tablet never holds up the others nor grows memory.
- Connections are capped (``max_connections``; more are refused with 4100), and a client
  silent for ``activity_timeout`` seconds is pinged and dropped (4201) if it stays silent.
- Every published event gets a sequence number from one counter per hub (it starts at the
  hub's start time in microseconds, so numbers keep rising across restarts). The event's
  data object carries it as ``seq``. Each channel keeps its last ``replay_history`` events,
  and all channels together at most ``HISTORY_BYTES`` of them (the least recently
  published channel's oldest go first: an order's event is a few KB, so 200 of each of
  a thousand channels would be hundreds of MB, and the database holds it all anyway);
  a client that resubscribes with the last ``seq`` it saw gets the later ones in order, or
  ``branchline:resync`` when the history no longer reaches back (refetch, then go on).
  One number serves every channel of a connection: a connection receives events in the
  order they were numbered, so having seen n it has seen all earlier ones of its channels.

A cloud of several processes shares one realtime picture through a bus (``bus``: the
cloud's composition root sets it, cloud/realtime_bus.py; an edge and a lone cloud have
none and work alone as above). While the bus is up the hub hands it what crosses
processes (``bus.publish``, ``relay``, ``subscribe``, ``leave``, ``grant``; and ``bury``
at its connection sweep while it has presence members: the members of a process gone for
good leave) and the bus hands back what every process must see (``deliver`` numbered
events in one global order, ``deliver_unnumbered`` presence and client events,
``subscribed`` a subscription's members and history read at one instant,
``grant_local``). A subscription that needs the bus (presence, or replay) is pending
until that answer comes: the live events meanwhile are kept for it, so what it gets is
ordered, without gap or double. While the bus is down the hub goes on alone for its own
subscribers (``bus_changed``).
"""

import asyncio
import collections
import itertools
import json
import logging
import secrets
import threading

import orjson
import tornado.ioloop

from .. import wire
from ..clock import Clock

log = logging.getLogger("branchline.realtime")

SEND_BUFFER_BYTES = 256 * 1024      # per connection; beyond it the client is too slow
HISTORY_CHANNELS = 1000             # channels whose history is kept (least recently used go)
HISTORY_BYTES = 1024 * 1024         # encoded events kept for replay, all channels together
PONG_TIMEOUT = 30                   # seconds a pinged client has to answer

OVER_CAPACITY, TOO_SLOW = 4100, 4101            # 41xx: reconnect after a back-off
SHUTTING_DOWN, NO_PONG = 4200, 4201             # 42xx: reconnect at once
RESYNC = "branchline:resync"


def frame(event, channel=None, data=None, **extra):
    """One Pusher message; ``data`` goes out as a JSON string, as the protocol has it."""
    message = {"event": event}
    if channel is not None:
        message["channel"] = channel
    if data is not None:
        message["data"] = data if isinstance(data, str) else wire.dumps(data)
    message.update(extra)
    # orjson answers bytes in a buffer of at least 4 KiB, whatever their length; a frame
    # kept for replay is copied to its own size (a shift's frames took 3 MB, not 0.2).
    return bytes(memoryview(orjson.dumps(message)))


PING = frame("pusher:ping", data={})
PONG = frame("pusher:pong", data={})


def _presence(members):
    """A presence subscription's answer from [user_id, user_info, ...] entries."""
    members = list(members)
    return {"ids": [m[0] for m in members], "hash": {str(m[0]): m[1] for m in members},
            "count": len(members)}


def with_seq(data, seq):
    """data (a dict, or a JSON text from the publishing API) as the JSON text sent, with
    ``seq`` added to an object (a field of its own of that name wins); other data as is."""
    if not isinstance(data, str):
        return wire.dumps({"seq": seq, **data}) if isinstance(data, dict) else wire.dumps(data)
    return seq_first(data, seq) if is_object(data) else data


def is_object(text):
    """Whether JSON text is an object (``with_seq`` adds its seq to one)."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def seq_first(text, seq):
    """A JSON object's text with ``seq`` as its first field, spliced in without parsing."""
    inner = text.strip()[1:-1].strip()
    return '{"seq":%d%s%s}' % (seq, "," if inner else "", inner)


class Connection:
    """What the hub keeps of a client (mixed into the WebSocket handler)."""
    socket_id = None
    channels = None          # channel -> presence member key (None on other channels)
    grants = None            # channel -> id of the token that authorised it (None: revoked)
    last_seen = 0.0          # self.clock.monotonic() of the client's last message
    ping_sent = None         # when we pinged and still wait for an answer
    device_id = None         # the device it said it is at channel auth (push skips it)


class _Channel:
    __slots__ = ("subscribers", "members", "pending")

    def __init__(self):
        self.subscribers = {}        # socket id -> connection
        self.members = {}            # member key -> [user_id, user_info, connections]
        self.pending = {}            # socket id -> _Pending (waiting for the bus's answer)


class _Pending:
    __slots__ = ("conn", "since", "last_seq", "kept", "token")
    tokens = itertools.count(1)

    def __init__(self, conn, since, last_seq):
        self.conn, self.since, self.last_seq = conn, since, last_seq
        self.kept = []               # (seq, message) delivered while it waits
        self.token = next(self.tokens)      # which of a socket's subscriptions is answered


class _History:
    """A channel's kept events. A list, not a deque(maxlen=...): a deque takes a block
    of 64 slots (0.7 KB) at once, and most channels (an order's own) keep two or three
    events; dropping the first of at most ``replay_history`` is cheap."""
    __slots__ = ("events", "floor")

    def __init__(self, floor):
        self.events = []       # (seq, message), oldest first
        self.floor = floor     # the newest seq of this channel no longer kept


class Hub:
    def __init__(self, credentials, *, clock=None, max_connections=5000, activity_timeout=120,
                 replay_history=200):
        self.credentials = credentials
        self.clock = clock or Clock()
        self.max_connections = max_connections
        self.activity_timeout = activity_timeout
        self.replay_history = max(1, replay_history)
        self.connections = {}
        self.channels = {}
        self.histories = collections.OrderedDict()
        self.history_bytes = 0         # the encoded size of every event kept in histories
        self.seq = int(self.clock.time() * 1_000_000)
        self.forgotten = self.seq      # newest seq of any history dropped whole (or the start)
        self.bus = None                # the processes' shared bus (cloud/realtime_bus.py)
        self._loop = self._loop_thread = self._sweeper = None
        self._bind_loop()

    # --- Connections ------------------------------------------------------------------

    def _bind_loop(self):
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._loop_thread = threading.get_ident()

    def refusal(self, key, protocol):
        """(close code, reason) for a connection that may not open, else None."""
        if key != self.credentials.key:
            return 4001, "Application key %s does not exist on this server" % key[:40]
        if protocol not in ("5", "6", "7"):
            return 4007, "Unsupported protocol version %s" % (protocol or "(none)")[:10]
        if len(self.connections) >= self.max_connections:
            return OVER_CAPACITY, "Over capacity"
        return None

    def add(self, conn):
        """Register conn; answers its new socket id."""
        if self._loop is None:
            self._bind_loop()
        if self._sweeper is None:
            interval = max(0.5, min(5.0, self.activity_timeout / 2))
            self._sweeper = tornado.ioloop.PeriodicCallback(self._sweep, interval * 1000)
            self._sweeper.start()
        socket_id = None
        while socket_id is None or socket_id in self.connections:
            socket_id = "%d.%d" % (secrets.randbelow(10 ** 9), secrets.randbelow(10 ** 9))
        conn.socket_id, conn.channels, conn.grants = socket_id, {}, {}
        conn.last_seen, conn.ping_sent = self.clock.monotonic(), None
        self.connections[socket_id] = conn
        return socket_id

    def remove(self, conn):
        """Forget conn and leave its channels (idempotent); with no one connected the
        sweeper stops, so an idle node runs no timer."""
        if self.connections.pop(conn.socket_id, None) is None:
            return
        for channel in list(conn.channels):
            self.unsubscribe(conn, channel)
        if not self.connections and self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper = None

    def heard(self, conn):
        conn.last_seen, conn.ping_sent = self.clock.monotonic(), None

    def _sweep(self):
        if self._shared() and any(ch.members for ch in self.channels.values()):
            self.bus.bury()     # a process gone for good: its members leave these channels
        now = self.clock.monotonic()
        pong_timeout = min(PONG_TIMEOUT, self.activity_timeout)
        for conn in tuple(self.connections.values()):
            if conn.ping_sent is None:
                if now - conn.last_seen >= self.activity_timeout:
                    conn.ping_sent = now
                    conn.send(PING)
            elif now - conn.ping_sent >= pong_timeout:
                self.disconnect(conn, NO_PONG, "Pong reply not received")

    def disconnect(self, conn, code, reason):
        self.remove(conn)
        conn.close_with(code, reason)

    def too_slow(self, conn):
        log.info("socket %s is not reading its messages: disconnected", conn.socket_id)
        self.disconnect(conn, TOO_SLOW, "Client too slow")

    def close(self):
        """Shutting down: every client is told to reconnect at once (4200)."""
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper = None
        for conn in tuple(self.connections.values()):
            self.disconnect(conn, SHUTTING_DOWN, "Server shutting down")

    async def start(self):
        """Before the node listens: connect the bus, if there is one."""
        self._bind_loop()
        if self.bus is not None:
            await self.bus.start()

    async def stop(self):
        """Shutting down: ``close``, then the bus sends what it still holds (this
        process's presence members leaving) and disconnects."""
        self.close()
        if self.bus is not None:
            await self.bus.stop()

    # --- Subscriptions ------------------------------------------------------------------

    def subscribe(self, conn, channel, member=None, last_seq=None):
        """Add conn to channel (member: {"user_id", "user_info"} on a presence channel),
        confirm it, then replay what it missed since last_seq."""
        if channel in conn.channels:
            self.unsubscribe(conn, channel)
        ch = self.channels.get(channel)
        if ch is None:
            ch = self.channels[channel] = _Channel()
        key = first = None
        if member is not None:
            key = str(member["user_id"])
            entry = ch.members.get(key)
            if entry is None:
                entry = ch.members[key] = [member["user_id"], member.get("user_info"), 0]
                first = entry
            entry[2] += 1
        conn.channels[channel] = key
        if conn.device_id and self._shared():
            self.bus.device(channel, conn.socket_id, conn.device_id)
        if self._shared() and (key is not None or last_seq is not None):
            waiting = ch.pending[conn.socket_id] = _Pending(conn, self.seq, last_seq)
            self.bus.subscribe(channel, conn.socket_id, waiting.token, first and first[:2],
                               key is not None, last_seq is not None)
            return
        if first is not None:
            self._fan_out(ch, frame("pusher_internal:member_added", channel, {
                "user_id": first[0], "user_info": first[1]}))
        ch.subscribers[conn.socket_id] = conn
        answer = {}
        if key is not None:
            answer["presence"] = _presence(ch.members.values())
        answer["seq"] = self.seq
        conn.send(frame("pusher_internal:subscription_succeeded", channel, answer))
        if last_seq is not None:
            self._replay(conn, channel, last_seq)

    def subscribed(self, channel, socket_id, token, members, history):
        """The bus's answer to a pending subscription (token: the one it was given):
        members ([user_id, user_info] of every process) and history ((floor, [(seq,
        message)]), or None), read after everything published before it reached here."""
        ch = self.channels.get(channel)
        waiting = ch.pending.get(socket_id) if ch is not None else None
        if waiting is None or waiting.token != token:
            return           # unsubscribed or gone meanwhile
        del ch.pending[socket_id]
        conn = waiting.conn
        ch.subscribers[socket_id] = conn
        answer = {"seq": self.seq}
        if members is not None:
            answer["presence"] = _presence(members)
        conn.send(frame("pusher_internal:subscription_succeeded", channel, answer))
        sent = waiting.last_seq
        if history is not None and not self._send_missed(conn, channel, sent, *history,
                                                         upto=waiting.since):
            sent = None
        for seq, message in waiting.kept:
            if sent is None or seq > sent:
                conn.send(message)

    def unsubscribe(self, conn, channel):
        ch = self.channels.get(channel)
        if channel not in conn.channels:
            return
        key = conn.channels.pop(channel)
        if conn.device_id and self._shared():
            self.bus.device(channel, conn.socket_id, None)
        if ch is None:
            return
        ch.subscribers.pop(conn.socket_id, None)
        ch.pending.pop(conn.socket_id, None)
        entry = ch.members.get(key) if key is not None else None
        if entry is not None:
            entry[2] -= 1
            if entry[2] <= 0:
                del ch.members[key]
                if self._shared():
                    self.bus.leave(channel, key)
                else:
                    self._fan_out(ch, frame("pusher_internal:member_removed", channel,
                                            {"user_id": entry[0]}))
        if not ch.subscribers and not ch.pending:
            del self.channels[channel]

    async def members(self, channel):
        """[{id, info}] of channel's presence members (of every process: the bus's)."""
        if self._shared():
            found = await self.bus.members(channel)
            if found is not None:
                return [{"id": m[0], "info": m[1]} for m in found]
        ch = self.channels.get(channel)
        return [{"id": e[0], "info": e[1]} for e in ch.members.values()] if ch else []

    def grant(self, socket_id, channel, jti, device_id=None):
        """Channel auth signed channel for socket_id with the token jti: a revocation of
        that token ends the subscription (``revoke``). device_id: the device the client
        says it is (its push token's), so push skips it while it is here. A socket of
        another process gets it through the bus."""
        if socket_id not in self.connections and self._shared():
            self.bus.grant(socket_id, channel, jti, device_id)
        else:
            self.grant_local(socket_id, channel, jti, device_id)

    def grant_local(self, socket_id, channel, jti, device_id=None):
        conn = self.connections.get(socket_id)
        if conn is not None:
            conn.grants[channel] = jti
            if device_id and device_id != conn.device_id:
                conn.device_id = device_id
                if self._shared():      # the grant may come after the subscription
                    for subscribed in conn.channels:
                        self.bus.device(subscribed, socket_id, device_id)

    def connected_devices(self, channel):
        """The device ids that sockets subscribed to channel here said they are (``grant``)."""
        ch = self.channels.get(channel)
        if ch is None:
            return set()
        return {conn.device_id for conn in list(ch.subscribers.values()) if conn.device_id}

    async def devices_connected(self, channels):
        """{channel: ``connected_devices``} of every process (with the bus up, those it
        knows too, read at once)."""
        found = {channel: self.connected_devices(channel) for channel in channels}
        shared = await self.bus.devices(list(found)) if self._shared() else None
        for channel, devices in (shared or {}).items():
            found[channel] |= devices
        return found

    def revoked(self, conn, channel):
        """Whether conn's grant for channel was revoked (its signature no longer serves)."""
        return channel in conn.grants and conn.grants[channel] is None

    def revoke(self, jtis):
        """Tokens were revoked (a logout here or on any node): every subscription they
        authorised ends at once, with a pusher:error 4009. Safe from any thread."""
        if self._call_on_loop(self.revoke, jtis):
            return
        jtis = set(jtis)
        for conn in tuple(self.connections.values()):
            ended = [channel for channel, jti in conn.grants.items() if jti in jtis]
            for channel in ended:
                conn.grants[channel] = None
                if channel in conn.channels:
                    self.unsubscribe(conn, channel)
                    conn.send(frame("pusher:error", data={
                        "code": 4009, "message": "Subscription to %s ended: the token that "
                                                 "authorised it was revoked" % channel}))

    def subscriber_count(self, channel):
        ch = self.channels.get(channel)
        return len(ch.subscribers) if ch else 0

    # --- Publishing ---------------------------------------------------------------------

    def publish(self, channel, event, data, exclude=None):
        """Number event, keep it for replay and send it to channel's subscribers (but the
        socket id ``exclude``: Pusher's way not to echo a change to its author); with
        the bus up, every process's subscribers, in the bus's order. Answers its seq,
        or None with the bus up (Redis numbers it)."""
        if self._shared():
            self.bus.publish(channel, event, data, exclude)
            return None
        seq = self.seq + 1
        return self.deliver(seq, channel, event, with_seq(data, seq), exclude)

    def deliver(self, seq, channel, event, text, exclude=None):
        """The event numbered seq (text: its data as sent, ``with_seq``), to this
        process's subscribers; kept for replay, and for the subscriptions still pending."""
        self.seq = max(self.seq, seq)
        message = frame(event, channel, text, seq=seq)
        self._remember(channel, seq, message)
        ch = self.channels.get(channel)
        if ch is not None:
            self._fan_out(ch, message, exclude)
            for waiting in ch.pending.values():
                if waiting.conn.socket_id != exclude:
                    waiting.kept.append((seq, message))
        return seq

    def deliver_unnumbered(self, channel, message, exclude=None):
        """A presence or client event from the bus; a pending subscription does not get
        it (its answer, read later, already reflects it)."""
        ch = self.channels.get(channel)
        if ch is not None:
            self._fan_out(ch, message, exclude)

    def _call_on_loop(self, fn, *args):
        """From another thread: schedule fn(*args) on the hub's loop and answer True."""
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread:
            return False
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:        # the loop is closed: nobody is listening
            pass
        return True

    def publish_events(self, events):
        """The Store's publish: protocol.events.Event objects of one committed operation.
        Safe from any thread."""
        if self._call_on_loop(self.publish_events, events):
            return
        for event in events:
            self.publish(event.channel, event.name, event.data)

    def relay(self, conn, channel, event, data, user_id=None):
        """A client event: to the other subscribers of channel only (on every process),
        not kept."""
        extra = {"user_id": user_id} if user_id is not None else {}
        message = orjson.dumps({"event": event, "channel": channel, "data": data, **extra})
        if self._shared():
            self.bus.relay(channel, message, conn.socket_id)
        else:
            self.deliver_unnumbered(channel, message, conn.socket_id)

    # --- The bus ----------------------------------------------------------------------

    def _shared(self):
        return self.bus is not None and self.bus.up

    def local_members(self):
        """[(channel, key, [user_id, user_info])] of the members connected here: what
        this process holds in the bus's shared presence."""
        return [(name, key, entry[:2]) for name, ch in self.channels.items()
                for key, entry in ch.members.items()]

    def local_devices(self):
        """[(channel, socket id, device id)] of the sockets here that said their device."""
        return [(name, conn.socket_id, conn.device_id) for conn in self.connections.values()
                if conn.device_id for name in conn.channels]

    def bus_changed(self, up):
        """The bus went down (pending subscriptions are answered from what this process
        knows) or came back (every subscriber here may have missed other processes'
        events: each channel is told to resync)."""
        for name, ch in list(self.channels.items()):
            if up:
                self._fan_out(ch, frame(RESYNC, name, {"last_seq": self.seq, "seq": self.seq}))
                continue
            kept = self.histories.get(name)
            history = (kept.floor, list(kept.events)) if kept else (self.forgotten, [])
            for socket_id, waiting in list(ch.pending.items()):
                presence = waiting.conn.channels.get(name) is not None
                self.subscribed(name, socket_id, waiting.token,
                                list(ch.members.values()) if presence else None,
                                history if waiting.last_seq is not None else None)

    def _fan_out(self, ch, message, exclude=None):
        # A list of the connections, not of (id, connection) pairs: a thousand tuples per
        # event would wake the garbage collector, whose full pass stalls every client.
        for conn in list(ch.subscribers.values()):
            if conn.socket_id != exclude:
                conn.send(message)

    def _remember(self, channel, seq, message):
        history = self.histories.get(channel)
        if history is None:
            history = self.histories[channel] = _History(self.forgotten)
            if len(self.histories) > HISTORY_CHANNELS:
                self._drop_history(next(iter(self.histories)))
        else:
            self.histories.move_to_end(channel)
        if len(history.events) >= self.replay_history:
            history.floor, dropped = history.events.pop(0)
            self.history_bytes -= len(dropped)
        history.events.append((seq, message))
        self.history_bytes += len(message)
        while self.history_bytes > HISTORY_BYTES:
            oldest = next(iter(self.histories))
            events = self.histories[oldest].events
            if len(events) == 1:
                self._drop_history(oldest)
            else:
                self.histories[oldest].floor, dropped = events.pop(0)
                self.history_bytes -= len(dropped)

    def _drop_history(self, channel):
        history = self.histories.pop(channel)
        self.history_bytes -= sum(len(message) for _, message in history.events)
        self.forgotten = max(self.forgotten, history.events[-1][0])

    def _replay(self, conn, channel, last_seq):
        history = self.histories.get(channel)
        if history is None:
            self._send_missed(conn, channel, last_seq, self.forgotten, ())
        else:
            self._send_missed(conn, channel, last_seq, history.floor, history.events)

    def _send_missed(self, conn, channel, last_seq, floor, events, upto=None):
        """Send conn what it missed of channel after last_seq (up to ``upto``) from
        ``events``, or tell it to resync when they no longer reach back (``floor``: the
        newest seq no longer kept); False when it was told to resync."""
        if not floor <= last_seq <= self.seq:
            conn.send(frame(RESYNC, channel, {"last_seq": last_seq, "seq": self.seq}))
            return False
        for seq, message in events:
            if last_seq < seq and (upto is None or seq <= upto):
                conn.send(message)
        return True
