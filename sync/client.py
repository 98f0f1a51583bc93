"""The edge's two sync loops: push its changes up, pull the cloud's down.

Push: one batch in flight, two while the edge is far behind (a catch-up); the
next is read while one flies, and goes as soon as the cloud has taken the one
before whole, while that answer is being stored, or, far behind, before that
answer (any other answer throws away what follows it). It wakes on every local commit,
backs off (sync/backoff.py) on network errors, 5xx, 408, 429 and 401, rewinds
when the cloud reports a gap (409), parks a batch the cloud refused for good
(any other 4xx: its changes become dead letters, sync/outbox.py) and goes on,
and resumes at once when the pull loop hears from the cloud again. Pull: a long
poll from the cursor, applied and stored in one transaction (sync/inbox.py); a
batch that fails to apply is not stored, and is pulled again after a backoff.
Location: where the edge is on its LAN (edge/lan.py), sent when it starts and
when it changes, again after a failure until the cloud has it (protocol/locations.py).
Neither loop spins while the cloud is away: each waits out its backoff. A
failure stays on the status page until the next success (sync/state.py).

Time and the network are injected: the node's clock (protocol/clock.py) times
the backoffs and stamps what is stored, and a transport (``HTTPTransport``, or a
fake cloud in tests/test_sync_loops.py) carries the requests.
"""

import asyncio
import collections
import functools
import logging

import tornado.httpclient
import tornado.simple_httpclient

from protocol import wire

from . import auth, commands, inbox, outbox, state, status
from .backoff import Backoff
from .signal import Signal

log = logging.getLogger("branchline.sync")

PULL_WAIT = 20.0
CLOCK_TICK = 1.0           # how often a pause looks at the clock, in real seconds
RETRIED_4XX = (401, 408, 409, 429)     # any other 4xx refuses a batch for good
PIPELINE = 2              # batches in flight at once, while far behind
DEEP = 100                # a batch of this many changes or more: the edge is far behind
CONNECT_TIMEOUT = 5.0      # seconds to reach the cloud before a request counts as failed


def refused_for_good(code):
    """Whether the cloud's answer ``code`` to a push means the batch can never go."""
    return code is not None and 400 <= code < 500 and code not in RETRIED_4XX


class _HangingUpClient(tornado.simple_httpclient.SimpleAsyncHTTPClient):
    """Tornado's HTTP client that, when closed, also hangs up the requests still in
    flight (the long poll above all), so the cloud sees a stopped edge leave at once,
    as it sees one whose process ended (sync/presence.py)."""

    def initialize(self, **kwargs):
        super().initialize(**kwargs)
        self.in_flight = set()

    def _connection_class(self):
        return functools.partial(_TrackedConnection, self.in_flight)

    def close(self):
        for connection in list(self.in_flight):
            stream = getattr(connection, "stream", None)
            if stream is not None:
                connection.final_callback = None      # nobody waits for its answer now
                stream.close()
        super().close()


class _TrackedConnection(tornado.simple_httpclient._HTTPConnection):
    def __init__(self, in_flight, *args, **kwargs):
        self._in_flight = in_flight
        in_flight.add(self)
        super().__init__(*args, **kwargs)

    def _release(self):
        self._in_flight.discard(self)
        super()._release()


def _settled(future):
    """Take a request's outcome so that one nobody awaits any more is not reported."""
    if not future.cancelled():
        future.exception()


class HTTPTransport:
    """Requests to the cloud over tornado's HTTP client."""

    def __init__(self):
        self.client = _HangingUpClient(force_instance=True)

    async def request(self, method, url, body, headers, timeout):
        """(status, body bytes) of the cloud's answer; raises when there is none.

        A stop cancels the caller, not the request: Tornado cannot call off a connect
        under way, and the error it ends with, set on a cancelled future, is logged as
        an application error with its traceback (an edge stopping during an outage)."""
        fetch = self.client.fetch(
            url, method=method, body=body if method == "POST" else None, headers=headers,
            request_timeout=timeout, connect_timeout=CONNECT_TIMEOUT, raise_error=False)
        fetch.add_done_callback(_settled)
        resp = await asyncio.shield(fetch)
        if resp.code >= 599 or resp.body is None:
            raise ConnectionError(str(resp.error))
        return resp.code, resp.body

    def close(self):
        self.client.close()


class EdgeSync:
    def __init__(self, node, cloud_url, *, pull_wait=PULL_WAIT, clock=None, transport=None,
                 backoff=Backoff, tick=CLOCK_TICK):
        self.node = node
        self.base = cloud_url.rstrip("/")
        self.pull_wait = pull_wait
        self.clock = clock or node.clock
        self.transport = transport or HTTPTransport()
        self.tick = tick
        self.backoff = backoff
        self.push_backoff, self.pull_backoff = backoff(), backoff()
        self.local_change = Signal()       # a local commit: maybe something to push
        self.cloud_back = Signal()         # the cloud answered again: retry now
        self.cloud_answers = 0             # pulls answered so far (a ring a loop missed)
        self._never = Signal()
        node.store.commit_listeners.append(self.local_change.ring)
        self.location = None               # where the edge is on its LAN, to send
        self.location_changed = Signal()
        self._tasks = []

    @property
    def summary(self):
        return "syncing with %s" % self.base

    def start(self):
        self._tasks = [asyncio.ensure_future(self._supervise(self._push_loop, "push")),
                       asyncio.ensure_future(self._supervise(self._pull_loop, "pull")),
                       asyncio.ensure_future(self._supervise(self._location_loop, "location"))]

    def report_location(self, report):
        """Send ``report`` (edge/lan.py ``Lan.report``) to the cloud, now or when it is back."""
        self.location = dict(report)
        self.location_changed.ring()

    async def _supervise(self, loop, name):
        """Run a loop for ever: an unexpected error (a strange answer, a database
        error) is logged and the loop starts again after a backoff; a loop that returns
        has ended for good (pushing held: outbox.record_answer)."""
        backoff = self.backoff()
        while True:
            try:
                return await loop()
            except asyncio.CancelledError:
                raise
            except Exception:         # noqa: BLE001 - logged; the loop must go on
                delay = backoff.failure()
                log.exception("%s loop [%s] failed; restarting in %.1f s", name, self.base,
                              delay)
                await self._pause(delay)

    async def stop(self):
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.transport.close()

    async def _pause(self, seconds, wake=None, answers=None):
        """Wait ``seconds`` by the node's clock; True when ``wake`` rang first, or when
        the cloud has answered a pull since ``cloud_answers`` was ``answers`` (it may
        have rung while the caller was not yet waiting)."""
        deadline = self.clock.monotonic() + seconds
        while True:
            if answers is not None and self.cloud_answers != answers:
                return True
            left = deadline - self.clock.monotonic()
            if left <= 0:
                return False
            if await (wake or self._never).wait(min(left, self.tick)):
                return True

    async def _failed(self, key, message):
        """Show a failure on the status page until the next success."""
        try:
            await self.node.store.run(state.put_error, key, self.clock.now(), message)
        except Exception:             # noqa: BLE001 - the database may be what failed
            log.exception("could not record a sync failure [%s]", self.base)

    async def _request(self, method, path, body=None, timeout=30.0):
        """(status, parsed JSON) of a signed request; (None, reason) when the cloud
        could not be reached."""
        raw = wire.dumps_bytes(body) if body is not None else b""
        headers = auth.sign(self.node.keyring.private_key, self.node.node_id, method, path,
                            raw, now=self.clock.time())
        headers["Content-Type"] = "application/json"
        try:
            code, body = await self.transport.request(method, self.base + path, raw, headers,
                                                      timeout)
        except Exception as exc:           # noqa: BLE001 - any way the network fails
            return None, str(exc) or type(exc).__name__
        try:
            return code, wire.loads(body.decode("utf-8")) if body else None
        except ValueError:
            return None, "unreadable answer (%d)" % code

    def _send(self, batch):
        """The request pushing ``batch``, under way."""
        return asyncio.ensure_future(self._request("POST", "/sync/push", batch))

    async def _push_loop(self):
        """While the edge is far behind (the batch in flight holds DEEP changes or
        more), the next batch goes before its answer: PIPELINE in flight at most, their
        answers taken in order. Otherwise one in flight, and the next one is read
        while it flies. A batch taken whole lets the next follow at once while its
        answer is being stored (a read from the acknowledged position waits for it:
        it was sending the last batch twice). Any other answer drops
        what flies after it and the read-ahead: the cloud applies a batch only after
        the one before it (it answers 409 otherwise; one that overtook the one before
        on its way is just sent again, no rewind), and one it applied anyway is
        answered again from what it stored, refusals included, when sent again."""
        store = self.node.store
        # (batch, its request, whether it went before the answer to the one before)
        flying = collections.deque()
        ahead = woken = storing = None
        try:
            while True:
                if not flying:
                    # Armed before reading, so a commit right after the read still
                    # wakes us; with nothing to send the loop sleeps until a commit.
                    woken = asyncio.ensure_future(self.local_change.wait())
                    batch = await ahead if ahead is not None else None
                    ahead = None
                    if batch is None:
                        if storing is not None:    # the position it reads from is stored
                            await storing
                            storing = None
                        batch = await store.run(outbox.next_batch)
                    if batch is None:
                        await woken
                        continue
                    woken.cancel()
                    flying.append((batch, self._send(batch), False))
                    ahead = asyncio.ensure_future(store.run(outbox.next_batch, batch["upto"]))
                if (ahead is not None and len(flying) < PIPELINE
                        and len(flying[-1][0]["changes"]) >= DEEP):
                    batch = await ahead
                    ahead = None
                    if batch is not None:
                        flying.append((batch, self._send(batch), True))
                        ahead = asyncio.ensure_future(store.run(outbox.next_batch,
                                                                batch["upto"]))
                batch, request, overtaking = flying.popleft()
                code, answer = await request
                if storing is not None:
                    await storing            # the answer before this one (its errors surface)
                    storing = None
                acked = True
                if code == 200:
                    self.push_backoff.success()
                    storing = asyncio.ensure_future(store.run(
                        outbox.record_answer, batch, answer, self.clock.now()))
                    log.debug("push [%s] %d changes, up to %s", self.base,
                              len(batch["changes"]), batch["upto"])
                    mark = isinstance(answer, dict) and answer.get("high_water_mark")
                    if mark == batch["upto"]:   # taken whole: what follows goes on
                        continue
                    acked = await storing
                    storing = None
                for _, later, _ in flying:
                    later.cancel()
                flying.clear()
                if ahead is not None:
                    ahead.cancel()
                    ahead = None
                if acked is None:    # the cloud is ahead of this database: held for good
                    log.error("push [%s] %s; pushing stops until the box is re-enrolled",
                              self.base, outbox.CLOUD_AHEAD % (
                                  mark, await store.run(outbox.last_issued)))
                    return
                elif code == 409 and overtaking:
                    # It reached the cloud before the one it followed (each goes on a
                    # connection of its own), which was taken whole: sent again.
                    log.info("push [%s] up to %s overtook the one before; sending again",
                             self.base, batch["upto"])
                elif code == 409 and isinstance(answer, dict) and "high_water_mark" in answer:
                    log.warning("push [%s] gap: the cloud has up to %s", self.base,
                                answer["high_water_mark"])
                    await store.run(outbox.rewind, answer["high_water_mark"])
                elif refused_for_good(code):
                    self.push_backoff.success()
                    reason = "refused by the cloud (%d): %s" % (code, _message(answer))
                    log.warning("push [%s] %d changes up to %s parked: %s", self.base,
                                len(batch["changes"]), batch["upto"], reason)
                    await store.run(outbox.park_batch, batch, reason, self.clock.now())
                elif code != 200:
                    answers = self.cloud_answers
                    delay = self.push_backoff.failure()
                    log.info("push [%s] failed (%s); retry in %.1f s", self.base,
                             code or answer, delay)
                    await self._failed(state.PUSH_ERROR, _failure(code, answer))
                    await self._pause(delay, self.cloud_back, answers)
        finally:
            for task in [ahead, woken] + [request for _, request, _ in flying]:
                if task is not None:
                    task.cancel()
            if storing is not None:
                await asyncio.gather(storing, return_exceptions=True)

    async def _pull_loop(self):
        store = self.node.store
        wait = 0.0           # answer at once first: the status page knows we are online
        while True:
            cursor, depth, newest = await store.run(_pull_position)
            code, batch = await self._request(
                "GET", "/sync/pull?after=%d&wait=%g&outbox_depth=%d&outbox_head=%d"
                % (cursor, wait, depth, newest), timeout=wait + 15)
            wait = self.pull_wait if code == 200 else 0.0
            if code == 200:
                self.cloud_answers += 1
                if self.pull_backoff.failing or self.push_backoff.failing:
                    self.cloud_back.ring()
                self.push_backoff.success()
                try:
                    # The commands in it run in the same transaction: one commit, and
                    # their answers go up with the next push.
                    await store.run(_take_feed, batch, self.node.branch_id, self.clock.now())
                except Exception as exc:      # noqa: BLE001 - a fault here: pulled again
                    wait = 0.0
                    delay = self.pull_backoff.failure()
                    log.exception("pull [%s] could not apply the changes after %d; retry in "
                                  "%.1f s", self.base, cursor, delay)
                    await self._failed(state.PULL_ERROR, "%s: %s" % (type(exc).__name__, exc))
                    await self._pause(delay)
                    continue
                self.pull_backoff.success()
            else:
                delay = self.pull_backoff.failure()
                log.info("pull [%s] failed (%s); retry in %.1f s", self.base,
                         code or batch, delay)
                await self._failed(state.PULL_ERROR, _failure(code, batch))
                await self._pause(delay)

    async def _location_loop(self):
        """Send the latest location the cloud does not have yet; sleep until it changes."""
        sent, backoff = None, self.backoff()
        while True:
            woken = asyncio.ensure_future(self.location_changed.wait())
            report = self.location
            if report is None or report == sent:
                await woken
                continue
            woken.cancel()
            answers = self.cloud_answers
            code, answer = await self._request("POST", "/sync/location", report)
            if code == 200 or refused_for_good(code):
                if code != 200:
                    log.warning("location [%s] refused (%d): %s", self.base, code,
                                _message(answer))
                sent = report
                backoff.success()
            else:
                await self._pause(backoff.failure(), self.cloud_back, answers)


def _take_feed(batch, branch_id, now):
    inbox.apply_feed(batch, now)
    commands.run_pending(branch_id, now)


def _pull_position():
    """The feed cursor to pull from, and the outbox's depth and newest change, which
    the pull tells the cloud for head office (status.outbox_report)."""
    return (state.get_int(state.CURSOR),) + status.outbox_report()


def _message(answer):
    return answer.get("message", "") if isinstance(answer, dict) else str(answer or "")


def _failure(code, answer):
    """A failed request as the status page shows it."""
    return "answered %d: %s" % (code, _message(answer)) if code else "unreachable: %s" % answer
