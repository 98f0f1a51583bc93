"""A misbehaving network between an edge and the cloud, for the chaos tests.

``FaultProxy`` listens on a free loopback port and forwards each HTTP request
to the target port, one request per connection (the edge's HTTP client sends
``Connection: close``). While ``faults`` is on, it picks for every request, with
a seeded RNG, one of:

- ``drop``: close the connection without forwarding anything;
- ``delay``: wait up to a second, then forward;
- ``duplicate``: forward two copies at once and answer with one of the answers;
- ``hold``: keep the request back until a few later requests have gone through
  (or a moment has passed), so it reaches the cloud out of order;
- ``replay``: forward it, and send a stale copy again a little later, after
  newer requests, throwing that answer away;
- ``cut``: forward it, then close the connection partway through the answer.

``force(path, action)`` makes the next request for a path meet a given
fault. ``counts`` says how often each happened, in all (``counts["cut"]``) and by
path (``counts["cut", "/sync/push"]``). ``await set_faults(False)`` makes it a
plain proxy (held requests go at once; replays already planned still happen).
"""

import asyncio
import collections
import random

ACTIONS = ("drop", "delay", "duplicate", "hold", "replay", "cut")


class FaultProxy:
    def __init__(self, target_port, *, seed, rates=None, host="127.0.0.1"):
        self.target = (host, target_port)
        self.host = host
        self.rng = random.Random(seed)
        self.rates = rates or {"drop": 0.08, "delay": 0.12, "duplicate": 0.08, "hold": 0.08,
                               "replay": 0.06, "cut": 0.08}
        self.faults = True
        self.counts = collections.Counter()
        self.port = None
        self._server = None
        self._forwarded = 0
        self._moved = asyncio.Condition()
        self._tasks = set()
        self._forced = collections.defaultdict(collections.deque)

    async def start(self):
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    async def close(self):
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def set_faults(self, on):
        self.faults = on
        async with self._moved:
            self._moved.notify_all()           # held requests go now

    def force(self, path, *actions):
        """Do ``actions`` to the next requests for ``path``, whether faults are on or not."""
        self._forced[path].extend(actions)

    def _pick(self):
        if not self.faults:
            return "forward"
        draw = self.rng.random()
        for action in ACTIONS:
            draw -= self.rates.get(action, 0)
            if draw < 0:
                return action
        return "forward"

    # --- one connection ----------------------------------------------------------

    async def _serve(self, reader, writer):
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            request = await _read_request(reader)
            if request is None:
                return
            path = _path(request)
            action = self._forced[path].popleft() if self._forced[path] else self._pick()
            self.counts[action] += 1
            self.counts[action, path] += 1
            answer = await self._handle(action, request, reader)
            if answer is None:
                return
            if action == "cut":
                answer = answer[:_cut_point(answer, self.rng)]
            writer.write(answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _handle(self, action, request, reader):
        if action == "drop":
            return None
        if action == "delay":
            await asyncio.sleep(self.rng.uniform(0.05, 1.0))
        elif action == "hold":
            await self._hold(self.rng.randint(1, 4), self.rng.uniform(0.3, 2.0))
        elif action == "duplicate":
            answers = await asyncio.gather(self._forward(request), self._forward(request),
                                           return_exceptions=True)
            answers = [a for a in answers if isinstance(a, bytes)]
            return self.rng.choice(answers) if answers else None
        elif action == "replay":
            self._spawn(self._replay_later(request, self.rng.uniform(0.3, 3.0)))
        return await self._forward(request, client=reader)

    async def _hold(self, later_requests, at_most):
        """Wait until ``later_requests`` others went through, or ``at_most`` seconds."""
        goal = self._forwarded + later_requests
        async with self._moved:
            try:
                await asyncio.wait_for(self._moved.wait_for(
                    lambda: self._forwarded >= goal or not self.faults), at_most)
            except asyncio.TimeoutError:
                pass

    async def _replay_later(self, request, delay):
        await asyncio.sleep(delay)
        self.counts["replayed"] += 1
        try:
            await self._forward(request)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass

    def _spawn(self, coroutine):
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _forward(self, request, client=None):
        """The target's whole answer to request; None when ``client`` hangs up
        first (then the target's connection is closed too, as the client's was)."""
        upstream_reader, upstream = await asyncio.open_connection(*self.target)
        try:
            upstream.write(request)
            await upstream.drain()
            async with self._moved:
                self._forwarded += 1
                self._moved.notify_all()
            answer = asyncio.ensure_future(upstream_reader.read())
            waits = [answer]
            if client is not None:
                waits.append(asyncio.ensure_future(client.read(1)))   # b"" when it hangs up
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for other in waits[1:]:
                other.cancel()
            if not answer.done():
                answer.cancel()
                return None
            return answer.result()
        finally:
            upstream.close()


async def _read_request(reader):
    """The raw bytes of one request (head with ``Connection: close``, and body)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.split(b"\r\n")
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() != b"connection" and line:
            kept.append(line)
    kept.append(b"Connection: close")
    body = await reader.readexactly(length) if length else b""
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


def _path(request):
    """The path of a request, without its query."""
    return request.split(b" ", 2)[1].split(b"?")[0].decode("latin-1")


def _cut_point(answer, rng):
    """Somewhere inside the answer's body (or its head when it has none)."""
    head_end = answer.find(b"\r\n\r\n") + 4
    if 4 <= head_end < len(answer):
        return rng.randrange(head_end, len(answer))
    return rng.randrange(1, max(2, len(answer)))
