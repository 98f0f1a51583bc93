"""The database handle: which database a model query goes to, and how one is opened.

Every model is bound to ``database``, a proxy that resolves, per thread, to the
database of the node whose Store worker thread is running (protocol/store.py
binds it). Binding per thread, instead of one process-wide database, lets a test
run an edge and a cloud in one process, each with its own file.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed payment survives
a power cut), foreign keys on. It imports only protocol/running.py: the schema
depends on it, never the other way round.
"""

import os

import peewee

from . import running


class ThreadBoundDatabase(peewee.DatabaseProxy):
    """A DatabaseProxy whose target is chosen by the calling thread."""

    @property
    def obj(self):
        return running.part("database")

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


def is_sqlite(db):
    return isinstance(db, peewee.SqliteDatabase)
