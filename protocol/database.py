"""The database handle: which database a model query goes to, and how one is opened.

Every model is bound to ``database``, a proxy that resolves, per thread, to the
database of the node whose Store worker thread is running (protocol/store.py
binds it). Binding per thread, instead of one process-wide database, lets a test
run an edge and a cloud in one process, each with its own file.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed payment survives
a power cut), foreign keys on. PostgreSQL (the cloud, when ``database_url`` is
set) is a pool of connections (playhouse.pool): a Store's worker takes one for
each batch of jobs and gives it back after, so a connection the server dropped
is replaced by the next batch. Its sessions run in UTC, and text compares by
code point as in SQLite when the database was created with ``LC_COLLATE 'C'``
(the README shows how; ``collation_warning`` says when it was not). It imports only protocol/running.py: the schema depends on it, never the
other way round.
"""

import os
import urllib.parse

import peewee
from playhouse import db_url
from playhouse.pool import PooledPostgresqlDatabase

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


def is_postgres(db):
    return isinstance(db, peewee.PostgresqlDatabase)


POSTGRES_SCHEMES = ("postgres", "postgresql")
POOL_SIZE = 16


def open_postgres(url):
    """A pool of connections to the PostgreSQL database at ``url``
    (postgresql://user:password@host:port/name?sslmode=...; the query's other
    parameters go to libpq, ``max_connections`` sizes the pool)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in POSTGRES_SCHEMES or not parsed.path.strip("/"):
        raise ValueError("not a PostgreSQL URL (postgresql://user@host/database): %r" % url)
    params = db_url.parse(url, unquote_password=True, unquote_user=True)
    params.setdefault("max_connections", POOL_SIZE)
    params.setdefault("stale_timeout", 300)   # seconds a connection is reused
    params.setdefault("timeout", 30)          # seconds to wait for a free one
    params["options"] = ("-c TimeZone=UTC " + params.get("options", "")).strip()
    return PooledPostgresqlDatabase(params.pop("database"), **params)


def open_database(url, sqlite_path):
    """The cloud's database: PostgreSQL at ``url``, or SQLite at ``sqlite_path``
    when ``url`` is empty."""
    return open_postgres(url) if url else open_sqlite(sqlite_path)


def collation_warning(db):
    """(Worker thread) Why text would not sort as on SQLite here, or None."""
    if not is_postgres(db):
        return None
    collate = db.execute_sql("SELECT datcollate FROM pg_database "
                             "WHERE datname = current_database()").fetchone()[0]
    if collate in ("C", "POSIX", "C.UTF-8", "C.utf8"):
        return None
    return ("database collation is %s: text sorts differently than on SQLite and at the "
            "edges; create the database with LC_COLLATE 'C' (README: the cloud on "
            "PostgreSQL)" % collate)


def wrote(db):
    """(Worker thread, inside a transaction on PostgreSQL) Whether the open
    transaction has written a row, or None where the database cannot say."""
    if is_postgres(db):
        return db.execute_sql("SELECT pg_current_xact_id_if_assigned() IS NOT NULL"
                              ).fetchone()[0]
    return None
