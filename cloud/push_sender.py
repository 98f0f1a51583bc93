"""The cloud's push sender: a loop over the persistent queue (cloud/push_queue.py) that
cannot run twice, sends at most ``push_concurrency`` pushes at once, and sleeps when there
is nothing to send.

Every commit at the cloud rings ``kick`` (the Store's commit listeners): a notification
stored by a handler or applied from an edge's batch has queued a notice in that commit.
``kick`` sets a flag and starts the loop only if none runs (synapse's per-destination
queue); the loop plans new notices (one delivery row per device, the user's devices
connected to the WebSocket skipped), then starts the due deliveries, read a batch at a
time. Finished pushes' outcomes and log lines are stored together, many to a
transaction, and a delivery is never read as due again until its outcome is stored. A
retry's time is the only timer. A delivery is ``sent`` only once its service accepted it,
so after a kill -9 the pending ones go out at the next start (a push accepted in the
instant before the kill, its outcome not yet stored, would go again: each carries the
notification id as its Web Push ``Topic`` / FCM collapse key, so a push service still
holding the first copy for an offline device replaces it).
"""

import asyncio
import collections
import logging
import os

from protocol import events
from protocol.node import data_paths

from . import fcm, push_http, push_queue, webpush

log = logging.getLogger("branchline.push")

PREFETCH = 4        # due deliveries read at a time, in places of push_concurrency
STOP_GRACE = 5.0    # seconds pushes in flight have to be answered when the cloud stops


class PushSender:
    summary = "pushing notifications to phones"      # for the start-up log line

    def __init__(self, node, services, *, concurrency=16, max_attempts=5, http=None):
        self.node = node
        self.http = http                 # the HTTP client the services share (closed at stop)
        self.store = node.store
        self.services = services         # platform -> object with async send(delivery, ttl)
        self.concurrency = max(1, concurrency)
        self.max_attempts = max(1, max_attempts)
        self.sent = 0
        self._wanted = self._plan_wanted = False
        self._task = None
        self._timer = None
        self._inflight = {}              # delivery id -> its task
        self._ready = collections.deque()  # due deliveries read, not started yet
        self._busy = set()               # ids read and not yet recorded: never read again
        self._results = []               # (delivery, Result) to record
        self._recorder = None
        self._closed = False
        self._loop = None

    # --- waking ------------------------------------------------------------------------

    def start(self):
        self._loop = asyncio.get_running_loop()
        self.store.commit_listeners.append(self.kick)
        self.kick()
        return self

    def kick(self):
        """Something was committed: look for work. Safe from any thread."""
        loop = self._loop
        if loop is None or self._closed:
            return
        try:
            loop.call_soon_threadsafe(self._kick)
        except RuntimeError:
            pass                        # the loop is closed: shutting down

    def _kick(self, plan=True):
        """Run the loop (plan new notices too unless ``plan`` is False: a place freed)."""
        self._wanted = True
        self._plan_wanted = self._plan_wanted or plan
        if self._task is None and not self._closed:
            self._task = asyncio.ensure_future(self._run())

    async def _run(self):
        try:
            while self._wanted and not self._closed:
                self._wanted = False
                if self._plan_wanted:
                    self._plan_wanted = False
                    await self._plan()
                await self._dispatch()
        except Exception:
            if not self._closed:
                log.exception("push: the queue could not be read; retrying in 5 s")
                self._arm(5.0)
        finally:
            self._task = None

    def _arm(self, delay):
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(max(0.0, delay), self._kick)

    # --- the work ----------------------------------------------------------------------

    async def _plan(self):
        notices = await self.store.run(push_queue.pending_notices)
        if not notices:
            return
        hub, connected = self.node.hub, {}
        if hub is not None:
            channels = {n["notification_id"]: events.user_channel(n["user_id"]) for n in notices}
            found = await hub.devices_connected(set(channels.values()))
            connected = {notice: found[channel] for notice, channel in channels.items()}
        queued = await self.store.run(push_queue.plan, notices, connected,
                                      self.node.clock.now())
        log.info("push: %d notification(s) planned, %d push(es) queued", len(notices), queued)
        self._wanted = self._plan_wanted = True     # more may wait beyond the batch

    async def _dispatch(self):
        """Start due pushes while there are free places; the due ones are read a batch at a
        time (``PREFETCH`` places' worth) into ``_ready``."""
        while len(self._inflight) < self.concurrency:
            if not self._ready:
                if not await self._read_due():
                    return
                continue
            delivery = self._ready.popleft()
            self._inflight[delivery["id"]] = asyncio.ensure_future(self._send(delivery))

    async def _read_due(self):
        now = self.node.clock.now()
        due, later = await self.store.run(push_queue.due, now, self.concurrency * PREFETCH,
                                          set(self._busy))
        for delivery in due:
            self._busy.add(delivery["id"])
            self._ready.append(delivery)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if later is not None:
            self._arm((later - now).total_seconds())
        return bool(due)

    async def _send(self, delivery):
        try:
            now = self.node.clock.now()
            ttl = (delivery["expires_at"] - now).total_seconds()
            service = self.services.get(delivery["platform"])
            if ttl <= 0:
                result = webpush.Result("expired", "its time to live ended in the queue")
            elif service is None:
                result = webpush.Result("failed", "no push service is configured for %s "
                                        "tokens" % delivery["platform"])
            else:
                try:
                    result = await service.send(delivery, ttl)
                except Exception as exc:     # a token that cannot be used as stored
                    log.warning("push: delivery %s: %s", delivery["id"], exc)
                    result = webpush.Result("failed", "could not be sent: %s" % exc)
            if result.kind == "sent":
                self.sent += 1
            self._results.append((delivery, result))
            if self._recorder is None:
                self._recorder = asyncio.ensure_future(self._record())
        finally:
            self._inflight.pop(delivery["id"], None)
            if not self._closed:
                self._kick(plan=False)

    async def _record(self):
        """Store the outcomes gathered so far, many in one transaction; a delivery stays
        busy (never read as due again) until its outcome is stored."""
        try:
            while self._results and not self._closed:
                batch, self._results = self._results, []
                try:
                    await self.store.run(push_queue.record_all, batch,
                                         self.node.clock.now(), self.max_attempts)
                except Exception:
                    if self._closed:
                        return
                    log.exception("push: %d outcome(s) could not be recorded; retrying in "
                                  "1 s", len(batch))
                    self._results = batch + self._results
                    await asyncio.sleep(1.0)
                    continue
                for delivery, _ in batch:
                    self._busy.discard(delivery["id"])
        finally:
            self._recorder = None
        if not self._closed:
            self._kick()

    async def stop(self, grace=STOP_GRACE):
        """Stop sending: pushes in flight get ``grace`` seconds to be answered and their
        outcomes are stored; any still unanswered stay pending and go at the next start."""
        self._closed = True
        if self.kick in self.store.commit_listeners:
            self.store.commit_listeners.remove(self.kick)
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=grace)
        tasks = list(self._inflight.values()) + [t for t in (self._task,) if t]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._recorder is not None:          # a batch being stored: let it finish
            await asyncio.gather(self._recorder, return_exceptions=True)
        if self._results:
            try:
                await self.store.run(push_queue.record_all, self._results,
                                     self.node.clock.now(), self.max_attempts)
            except Exception:
                log.exception("push: %d outcome(s) could not be recorded at stop",
                              len(self._results))
            self._results = []
        if self.http is not None:
            await self.http.close()


def open_services(node, http):
    """The push services the cloud's settings configure: web always, FCM with a service
    account; publishes the VAPID public key (push_keys) for edges and apps."""
    settings = node.settings
    vapid = webpush.load_keys(data_paths(settings)["keys"])
    node.store.call(push_queue.publish_key, webpush.public_key(vapid), node.clock.now())
    web = webpush.WebPushService(vapid, settings.push_vapid_subject, http, node.clock)
    services = {"web": web}
    if settings.push_fcm_credentials:
        credentials = fcm.load_credentials(os.path.expanduser(settings.push_fcm_credentials),
                                           settings.push_fcm_token_uri)
        services["android"] = services["ios"] = fcm.FcmService(
            credentials, settings.push_fcm_base_url, http, node.clock)
    return services


def start(node):
    """The cloud's push sender, started (on the running loop)."""
    settings = node.settings
    http = push_http.PushHttp(max(1, settings.push_concurrency))
    sender = PushSender(node, open_services(node, http), concurrency=settings.push_concurrency,
                        max_attempts=settings.push_max_attempts, http=http)
    return sender.start()

