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
import threading

import peewee

from . import ids

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


class Store:
    """A node's database plus the worker threads that may touch it."""

    def __init__(self, db, *, node_id, workers=1):
        self.db = db
        self.node_id = node_id
        self.allocator = ids.IdAllocator(node_id)
        self._closed = False
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="store-%d" % node_id,
            initializer=self._bind)

    def _bind(self):
        _bound.database = self.db
        ids.bind(self.allocator)

    def call(self, fn, *args, **kwargs):
        """Run fn in a worker thread and wait for it (start-up, tests, CLI)."""
        return self._executor.submit(fn, *args, **kwargs).result()

    async def run(self, fn, *args, **kwargs):
        """Run fn in a worker thread without blocking the event loop."""
        loop = asyncio.get_running_loop()
        future = self._executor.submit(fn, *args, **kwargs)
        return await asyncio.wrap_future(future, loop=loop)

    def open(self):
        """Apply migrations and seed the id allocator; call once at start-up."""
        from . import migrations
        def _open():
            self.db.connect(reuse_if_open=True)
            migrations.migrate(self.db)
            self.allocator.resume(self.db)
        self.call(_open)
        return self

    def close(self):
        if self._closed:
            return
        self._closed = True

        def _close():
            if not self.db.is_closed():
                if isinstance(self.db, peewee.SqliteDatabase):
                    self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                self.db.close()
        try:
            self.call(_close)
        finally:
            self._executor.shutdown(wait=True)

