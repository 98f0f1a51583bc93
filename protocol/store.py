"""The one path for blocking work: a node's Store runs every database job.

Handlers never query on the event loop; they ``await store.run(fn, ...)``. A
Store is a small pool of worker threads bound to one node's database
(protocol/database.py), id allocator (protocol/ids.py) and hybrid clock
(protocol/hlc.py), and holds that node's in-process state that domain code
running in those threads may need: the set of revoked token ids and a memo of
hot lookups (price books, actors). SQLite has one writer, so a node runs one
worker thread: transactions stay serial without lock errors. Over PostgreSQL a
cloud process keeps the same single writer with group commit (its processes
write side by side, each in its own transactions); the worker takes a pooled
connection for each batch and gives it back after (protocol/database.py).
"""

import asyncio
import concurrent.futures
import logging
import os
import queue
import threading

import peewee

from . import clock as clocks
from . import database, events, hlc, ids, migrations, running

log = logging.getLogger("branchline.store")

class _Job:
    __slots__ = ("fn", "args", "kwargs", "future", "transaction", "result", "events", "error")

    def __init__(self, fn, args, kwargs, transaction):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.transaction = transaction
        self.future = concurrent.futures.Future()
        self.result = self.events = self.error = None


class Store:
    """A node's database plus the worker threads that may touch it.

    Jobs queue up; a worker takes every job waiting (up to MAX_BATCH) and runs
    them in one transaction, each in its own savepoint, then commits once and
    answers them all: group commit. A failing job rolls back only its own
    savepoint. Under load many orders share one fsync; alone, a job commits
    by itself at once. Nothing is answered before its commit.
    """

    MAX_BATCH = 64

    def __init__(self, db, *, node_id, clock=None, workers=1):
        self.db = db
        self.node_id = node_id
        self.clock = clock or clocks.Clock()
        # PostgreSQL: the cloud's processes take blocks of ids from one sequence.
        self.allocator = ids.IdAllocator(node_id, blocks=(
            (lambda: database.next_block(db)) if database.is_postgres(db) else None))
        self.hlc = hlc.HybridClock(node_id, self.clock)
        self.revoked = set()     # token ids revoked here or on any node we sync with
        self.revocation_listeners = []   # fn(jtis), from any thread: the hub ends subscriptions
        # PostgreSQL: fn(payloads) per channel of what another process announced
        # (database.NOTICE_CHANNELS), and fn() re-reading what such notices say once the
        # listener is (re)connected (any missed while it was away); both in its thread.
        self.notice_listeners = {database.REVOCATIONS_CHANNEL: [self.revoke]}
        self.connect_listeners = []
        self.memo = {}           # hot lookups of this node (pricing.book, accounts.load_actor)
        self.publish = lambda events: None
        # Called (from the worker thread) after every commit that wrote a row: sync
        # wakes its sender and its long-polling feed readers with it. A read rings
        # nothing, so an idle node rests.
        self.commit_listeners = []
        self.jobs_run = 0        # transactions run so far (the idle test watches it)
        # PostgreSQL: other processes over the same database ring our listeners too.
        self.sender = "%d-%d" % (os.getpid(), id(self))
        self._commits = None
        self._closed = False
        self._queue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name="store-%d-%d" % (node_id, n),
                                          daemon=True) for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def _bind(self):
        running.bind(database=self.db, allocator=self.allocator, hlc=self.hlc,
                     clock=self.clock, store=self)

    def _work(self):
        self._bind()
        while True:
            job = self._queue.get()
            if job is None:
                return
            if not job.future.set_running_or_notify_cancel():
                continue            # its caller gave up before it started
            if not job.transaction:
                self._connected([job], self._run_alone, job)
                continue
            batch = [job]
            while len(batch) < self.MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None or not nxt.transaction:
                    self._queue.put(nxt)   # handled after this batch
                    break
                if nxt.future.set_running_or_notify_cancel():
                    batch.append(nxt)
            self._connected(batch, self._run_batch, batch)

    def _connected(self, jobs, run, *args):
        """run(*args) with a connection. PostgreSQL: one from the pool, given back
        after (one the server dropped is not given back, and the next batch gets a
        new one); when none can be had, each job is told why. SQLite: the worker's
        own, kept open."""
        if not database.is_postgres(self.db):
            return run(*args)
        try:
            with self.db.connection_context():
                run(*args)
        except BaseException as exc:
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(exc)
        if any(database.outage(job.future.exception()) for job in jobs
               if job.future.done() and job.future.exception() is not None):
            self.db.close_idle()     # dead as well, most likely: the next batch connects anew

    def _run_alone(self, job):
        try:
            job.future.set_result((job.fn(*job.args, **job.kwargs), []))
        except BaseException as exc:
            job.future.set_exception(exc)

    def _run_batch(self, batch):
        # SQLite: take the write lock at BEGIN (IMMEDIATE), so another process
        # writing the same file (a CLI command) makes us wait, not fail mid-way.
        outer = (self.db.atomic("IMMEDIATE") if database.is_sqlite(self.db)
                 else self.db.atomic())
        changes_before = self._changes()
        self.jobs_run += len(batch)
        wrote = None
        try:
            with outer:
                for job in batch:
                    try:
                        with self.db.atomic():
                            events.collect()
                            job.result = job.fn(*job.args, **job.kwargs)
                            job.events = events.collected()
                    except BaseException as exc:
                        events.collected()
                        job.error = exc
                wrote = database.wrote(self.db)
                if wrote:
                    database.announce_commit(self.db, self.sender)
        except BaseException as exc:
            for job in batch:
                job.future.set_exception(job.error or exc)
            return
        for job in batch:
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result((job.result, job.events))
        if wrote is None:
            wrote = changes_before is None or self._changes() != changes_before
        if not wrote:
            return                  # nothing written: nobody needs waking
        self._ring()

    def _ring(self):
        for listener in self.commit_listeners:
            listener()

    def _changes(self):
        """Rows written through this node's connection so far (SQLite counts them);
        None where the database does not (PostgreSQL says ``database.wrote``)."""
        if database.is_sqlite(self.db):
            return self.db.connection().total_changes
        return None

    def revoke(self, jtis):
        """Token ids revoked (a logout here, or one that arrived by sync): refused from
        now on, and their listeners told. Safe from any thread."""
        jtis = set(jtis) - self.revoked
        if not jtis:
            return
        self.revoked.update(jtis)
        for listener in self.revocation_listeners:
            listener(jtis)

    def _noticed(self, channel, payloads):
        for listener in list(self.notice_listeners.get(channel, ())):
            listener(payloads)

    def _reconnected(self):
        for listener in list(self.connect_listeners):
            listener()

    def _submit(self, fn, args, kwargs, transaction=True):
        if self._closed:
            raise RuntimeError("store is closed")
        job = _Job(fn, args, kwargs, transaction)
        self._queue.put(job)
        return job.future

    def call(self, fn, *args, **kwargs):
        """Run fn in a worker thread and wait for it (start-up, tests, CLI)."""
        result, evs = self._submit(fn, args, kwargs).result()
        if evs:
            self.publish(evs)
        return result

    async def run(self, fn, *args, **kwargs):
        """Run fn in a worker thread without blocking the event loop; its events
        are published once it has committed."""
        result, evs = await asyncio.wrap_future(self._submit(fn, args, kwargs))
        if evs:
            self.publish(evs)
        return result

    def call_outside_transaction(self, fn, *args):
        return self._submit(fn, args, {}, transaction=False).result()[0]

    def open(self, schema, on_open=()):
        """Apply migrations, run ``on_open`` hooks (fn(db): sync installs its
        capture triggers) and resume the id allocator after the highest id of
        this node found in any table of ``schema`` (every model whose ids the
        node mints: the domain's and sync's); call once at start-up."""
        def _open():
            self.db.connect(reuse_if_open=True)
            with migrations.exclusive(self.db):
                migrations.migrate(self.db)
                for hook in on_open:
                    hook(self.db)
                self.resume_ids(schema)
            warning = database.collation_warning(self.db)
            if warning:
                log.warning("%s", warning)
        self.call_outside_transaction(_open)
        if database.is_postgres(self.db):
            self._commits = database.CommitListener(self.db, self.sender, self._ring,
                                                    self._noticed, self._reconnected)
        return self

    def resume_ids(self, schema):
        """(Worker thread) Continue the id counter after the node's highest id in
        ``schema`` (PostgreSQL: hand out no block of ids at or below it)."""
        last = highest_id(schema, self.allocator.low, self.allocator.high)
        self.allocator.resume(last)
        if database.is_postgres(self.db):
            database.reserve_blocks(self.db, self.allocator.block_after(last))

    def close(self):
        if self._closed:
            return
        if self._commits is not None:
            self._commits.stop()

        def _close():
            if not self.db.is_closed():
                if database.is_sqlite(self.db):
                    self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                self.db.close()
            if database.is_postgres(self.db):
                self.db.close_all()      # the pool's idle connections
        try:
            self.call_outside_transaction(_close)
        finally:
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)
            for thread in self._threads:
                thread.join()


def highest_id(schema, low, high):
    """The highest integer primary key between low and high in any model of
    ``schema`` (one index probe per table), or None."""
    last = None
    for model in schema:
        pk = model._meta.primary_key
        if not isinstance(pk, peewee.BigIntegerField):
            continue
        found = (model.select(pk).where(pk.between(low, high))
                 .order_by(pk.desc()).limit(1).scalar())
        if found is not None and (last is None or found > last):
            last = found
    return last


def current_store():
    """The Store whose worker thread is running (its memo and revocations)."""
    return running.part("store")
