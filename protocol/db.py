"""The database handle and the one path for blocking work.

Every model is bound to ``database``, a proxy that resolves, per thread, to the
database of the node whose worker thread is running. A node owns a ``Store``: a
small thread pool whose threads are bound to that node's database and id
allocator. Handlers never query on the event loop; they ``await store.run(fn,
...)``. Binding per thread (instead of one process-wide database) lets a test
run an edge and a cloud in one process, each with its own file.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed payment survives
a power cut), foreign keys on, and one worker thread: SQLite has one writer, and
a single thread keeps transactions serial without lock errors.
"""

import asyncio
import concurrent.futures
import os
import queue
import threading

import peewee

from . import events, ids

_bound = threading.local()


class ThreadBoundDatabase(peewee.DatabaseProxy):
    """A DatabaseProxy whose target is chosen by the calling thread."""

    @property
    def obj(self):
        db = getattr(_bound, "database", None)
        if db is None:
            raise RuntimeError(
                "database used outside a Store worker thread; use store.run()")
        return db

    @obj.setter
    def obj(self, value):
        # DatabaseProxy.__init__ initialises to None; binding happens per thread.
        if value is not None:
            raise RuntimeError("bind a database with Store, not initialize()")


database = ThreadBoundDatabase()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "cache_size": -16000,
}


def open_sqlite(path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS,
                                 check_same_thread=False)


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

    def __init__(self, db, *, node_id, workers=1):
        self.db = db
        self.node_id = node_id
        self.allocator = ids.IdAllocator(node_id)
        self.cache = {}          # per-node memo for hot lookups (see protocol.pricebook)
        self.publish = lambda events: None
        # Called (from the worker thread) after every commit: sync wakes its
        # sender and its long-polling feed readers with it.
        self.commit_listeners = []
        self._closed = False
        self._queue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name="store-%d-%d" % (node_id, n),
                                          daemon=True) for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def _bind(self):
        _bound.database = self.db
        _bound.store = self
        ids.bind(self.allocator)

    def _work(self):
        self._bind()
        while True:
            job = self._queue.get()
            if job is None:
                return
            if not job.future.set_running_or_notify_cancel():
                continue            # its caller gave up before it started
            if not job.transaction:
                self._run_alone(job)
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
            self._run_batch(batch)

    def _run_alone(self, job):
        try:
            job.future.set_result((job.fn(*job.args, **job.kwargs), []))
        except BaseException as exc:
            job.future.set_exception(exc)

    def _run_batch(self, batch):
        # SQLite: take the write lock at BEGIN (IMMEDIATE), so another process
        # writing the same file (a CLI command) makes us wait, not fail mid-way.
        outer = (self.db.atomic("IMMEDIATE") if isinstance(self.db, peewee.SqliteDatabase)
                 else self.db.atomic())
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
        except BaseException as exc:
            for job in batch:
                job.future.set_exception(job.error or exc)
            return
        for job in batch:
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result((job.result, job.events))
        for listener in self.commit_listeners:
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

    def open(self, on_open=()):
        """Apply migrations, run ``on_open`` hooks (fn(db): sync installs its
        capture triggers) and seed the id allocator; call once at start-up."""
        from . import migrations

        def _open():
            self.db.connect(reuse_if_open=True)
            migrations.migrate(self.db)
            for hook in on_open:
                hook(self.db)
            self.allocator.resume(self.db)
        self.call_outside_transaction(_open)
        return self

    def close(self):
        if self._closed:
            return

        def _close():
            if not self.db.is_closed():
                if isinstance(self.db, peewee.SqliteDatabase):
                    self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                self.db.close()
        try:
            self.call_outside_transaction(_close)
        finally:
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)
            for thread in self._threads:
                thread.join()


def current_store():
    """The Store whose worker thread is running (for per-node caches)."""
    return getattr(_bound, "store", None)
