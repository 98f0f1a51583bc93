"""The edge's two sync loops: push its changes up, pull the cloud's down.

Push: one batch in flight; the next is read while it flies, and goes as soon
as the cloud has taken the one before whole, while that answer is being stored
(any other answer throws the read-ahead away). It wakes on every local commit,
backs off (sync/backoff.py) on network errors, 5xx, 429 and 401, rewinds when
the cloud reports a gap, and resumes at once when the pull loop hears from the
cloud again. Pull: a long poll from the cursor, applied and stored in one
transaction (sync/inbox.py). Neither loop spins while the cloud is away: each
waits out its backoff.
"""

import asyncio
import logging

import tornado.httpclient

from protocol import wire

from . import auth, commands, inbox, outbox, state
from .backoff import Backoff
from .signal import Signal

log = logging.getLogger("branchline.sync")

PULL_WAIT = 20.0
IDLE_RECHECK = 5.0


class EdgeSync:
    def __init__(self, node, cloud_url, *, pull_wait=PULL_WAIT):
        self.node = node
        self.base = cloud_url.rstrip("/")
        self.pull_wait = pull_wait
        self.client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
        self.push_backoff, self.pull_backoff = Backoff(), Backoff()
        self.local_change = Signal()       # a local commit: maybe something to push
        self.cloud_back = Signal()         # the cloud answered again: retry now
        node.store.commit_listeners.append(self.local_change.ring)
        self._tasks = []

    def start(self):
        self._tasks = [asyncio.ensure_future(self._supervise(self._push_loop, "push")),
                       asyncio.ensure_future(self._supervise(self._pull_loop, "pull"))]

    async def _supervise(self, loop, name):
        """Run a loop for ever: an unexpected error (a strange answer, a database
        error) is logged and the loop starts again after a backoff, never dies."""
        backoff = Backoff()
        while True:
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except Exception:         # noqa: BLE001 - logged; the loop must go on
                delay = backoff.failure()
                log.exception("%s loop [%s] failed; restarting in %.1f s", name, self.base,
                              delay)
                await asyncio.sleep(delay)

    async def stop(self):
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.client.close()

    async def _request(self, method, path, body=None, timeout=30.0):
        """(status, parsed JSON) of a signed request; (None, reason) when the cloud
        could not be reached."""
        raw = wire.dumps_bytes(body) if body is not None else b""
        headers = auth.sign(self.node.keyring.private_key, self.node.node_id, method, path,
                            raw, now=self.node.clock.time())
        headers["Content-Type"] = "application/json"
        try:
            resp = await self.client.fetch(
                self.base + path, method=method, body=raw if method == "POST" else None,
                headers=headers, request_timeout=timeout, connect_timeout=5,
                raise_error=False)
        except Exception as exc:           # noqa: BLE001 - any way the network fails
            return None, str(exc)
        if resp.code >= 599 or resp.body is None:
            return None, str(resp.error)
        try:
            return resp.code, wire.loads(resp.body.decode("utf-8")) if resp.body else None
        except ValueError:
            return None, "unreadable answer (%d)" % resp.code

    async def _push_loop(self):
        """One batch in flight. While it flies, the next one is read; when the cloud
        takes it whole, the next one goes at once while the answer is being stored
        (the store runs jobs in order, so the answer is stored before anything that
        reads the acknowledged position)."""
        store = self.node.store
        ahead = woken = storing = None
        try:
            while True:
                # Armed before reading, so a commit right after the read still wakes us.
                woken = asyncio.ensure_future(self.local_change.wait(IDLE_RECHECK))
                batch = await ahead if ahead is not None else None
                ahead = None
                if batch is None:
                    batch = await store.run(outbox.next_batch)
                if batch is None:
                    await woken
                    continue
                woken.cancel()
                ahead = asyncio.ensure_future(store.run(outbox.next_batch, batch["upto"]))
                code, answer = await self._request("POST", "/sync/push", batch)
                if storing is not None:
                    await storing            # the answer before this one (its errors surface)
                    storing = None
                if code == 200:
                    self.push_backoff.success()
                    storing = asyncio.ensure_future(store.run(
                        outbox.record_answer, batch, answer, self.node.clock.now()))
                    log.debug("push [%s] %d changes, up to %s", self.base,
                              len(batch["changes"]), batch["upto"])
                    mark = isinstance(answer, dict) and answer.get("high_water_mark")
                    if mark == batch["upto"]:          # taken whole: the read-ahead follows
                        continue
                    await storing
                    storing = None
                ahead.cancel()
                ahead = None
                if code == 409 and isinstance(answer, dict) and "high_water_mark" in answer:
                    log.warning("push [%s] gap: the cloud has up to %s", self.base,
                                answer["high_water_mark"])
                    await store.run(outbox.rewind, answer["high_water_mark"])
                elif code != 200:
                    delay = self.push_backoff.failure()
                    log.info("push [%s] failed (%s); retry in %.1f s", self.base,
                             code or answer, delay)
                    await self.cloud_back.wait(delay)
        finally:
            for task in (ahead, woken):
                if task is not None:
                    task.cancel()
            if storing is not None:
                await asyncio.gather(storing, return_exceptions=True)

    async def _pull_loop(self):
        store = self.node.store
        wait = 0.0           # answer at once first: the status page knows we are online
        while True:
            cursor = await store.run(state.get_int, state.CURSOR)
            code, batch = await self._request(
                "GET", "/sync/pull?after=%d&wait=%g" % (cursor, wait), timeout=wait + 15)
            wait = self.pull_wait if code == 200 else 0.0
            if code == 200:
                await store.run(inbox.apply_feed, batch, self.node.clock.now())
                await store.run(commands.run_pending, self.node.branch_id, self.node.clock.now())
                if self.pull_backoff.failing or self.push_backoff.failing:
                    self.cloud_back.ring()
                self.pull_backoff.success()
                self.push_backoff.success()
            else:
                delay = self.pull_backoff.failure()
                log.info("pull [%s] failed (%s); retry in %.1f s", self.base,
                         code or batch, delay)
                await asyncio.sleep(delay)
