"""The database handle: which database a model query goes to, and how one is opened.

Every model is bound to ``database``, a proxy that resolves, per thread, to the
database of the node whose Store worker thread is running (protocol/store.py
binds it). Binding per thread, instead of one process-wide database, lets a test
run an edge and a cloud in one process, each with its own file.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed payment survives
a power cut), foreign keys on. Its connection keeps little of the file in memory:
a page cache of ``CACHE_KIB`` and ``CACHED_STATEMENTS`` prepared statements. The
operating system's file cache already holds the file's hot pages, and a page cache
grows with the database up to its size (an edge kept each shift's pages for good:
with 16 MB allowed, 16 MB more after a few weeks of trading). PostgreSQL (the
cloud, when ``database_url`` is set) is a pool of connections
(protocol/postgres_pool.py): a Store's worker takes one for each batch of jobs and
gives it back after, so a connection the server dropped is replaced by the next
batch. While the server cannot be reached (``outage``) requests are answered 503
with Retry-After, and the pool's idle connections are dropped with the one found
dead (they died with it): once the server is back, the next batch connects afresh,
with no restart. Its sessions run in UTC, and text compares by code point as in
SQLite when the database was created with ``LC_COLLATE 'C'`` (the README shows how;
``collation_warning`` says when it was not). Several cloud processes may share one
PostgreSQL database: ``for_update`` and ``lock_key`` serialise what two of them
must not do at once, and a ``CommitListener`` tells each process of the others'
commits (LISTEN/NOTIFY). It imports only protocol/running.py: the schema depends
on it, never the other way round.
"""

import datetime
import functools
import logging
import os
import select
import sqlite3
import threading

import peewee

from . import running

log = logging.getLogger("branchline.database")


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


CACHE_KIB = 512             # SQLite's page cache per connection
CACHED_STATEMENTS = 64      # prepared statements kept per connection (Python's default: 128)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "cache_size": -CACHE_KIB,
}


def open_sqlite(path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                                 cached_statements=CACHED_STATEMENTS)


def is_sqlite(db):
    return isinstance(db, peewee.SqliteDatabase)


def is_postgres(db):
    return isinstance(db, peewee.PostgresqlDatabase)


def outage(exc):
    """Whether ``exc`` says the PostgreSQL server cannot be reached just now (the
    connection refused, lost or closed, the server shutting down or starting up:
    SQLSTATE classes 08 and 57P), not that a statement failed. A handler answers it
    with 503 and Retry-After; the pool replaces the connections that died."""
    cause = exc
    if isinstance(exc, (peewee.OperationalError, peewee.InterfaceError)):
        cause = exc.__cause__ or exc.__context__      # peewee re-raises the driver's
    if not hasattr(cause, "pgcode") or not hasattr(cause, "cursor"):
        return False                      # not psycopg2's: SQLite, or ours
    code = cause.pgcode
    return code is None or code.startswith(("08", "57P"))


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


def next_block(db):
    """(Worker thread, PostgreSQL) The number of a block of ids no other process
    of this database will use (protocol/ids.py; migration 0014)."""
    return db.execute_sql("SELECT nextval('id_blocks')").fetchone()[0]


def reserve_blocks(db, first):
    """(Worker thread, PostgreSQL) Hand out no block below ``first`` any more (ids
    up to there are taken: found in the tables at start-up)."""
    db.execute_sql("SELECT setval('id_blocks', %s, false) FROM id_blocks WHERE "
                   "(CASE WHEN is_called THEN last_value + 1 ELSE last_value END) < %s",
                   (first, first))


ROWS_PER_STATEMENT = 500


@functools.lru_cache(maxsize=256)
def _values_sql(head, tail, width, count, param):
    row = "(%s)" % ", ".join([param] * width)
    return "%s VALUES %s %s" % (head, ", ".join([row] * count), tail)


def insert_values(head, tail, rows):
    """Run ``head VALUES (...), (...), ... tail`` (an INSERT, its columns; then ON
    CONFLICT ...) for many parameter rows on the running node's connection, as few
    statements as the database lets one statement hold parameters: on SQLite, one
    statement per row (executemany) took twice as long, and on PostgreSQL a round
    trip each."""
    db = database.obj
    width = len(rows[0])
    per = ROWS_PER_STATEMENT
    if is_sqlite(db):
        per = min(per, db.connection().getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width)
    cursor = db.cursor()
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        cursor.execute(_values_sql(head, tail, width, len(chunk), db.param),
                       [value for row in chunk for value in row])


class _Slot:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def slot(name):
    """Where the value ``name`` goes in a query a ``Prepared`` builds (given as the
    column holds it: an id, a text; no field converts it)."""
    return peewee.Value(_Slot(name), converter=False)


class Prepared:
    """A query peewee builds once per kind of database, then run again and again with
    new values: for the hot path of an order, where building a SELECT in peewee took
    over twenty times as long as SQLite took to run it (166 against 7 µs, customers'
    lookup by phone). ``build()`` answers the peewee query, with ``slot(name)`` where
    each value goes; peewee writes its SQL in the running database's dialect and
    param style (SQLite's ``?``, PostgreSQL's ``%s``), and each run fills the slots."""

    def __init__(self, build):
        self.build = build
        self._compiled = {}         # database class -> (sql, params with slots)
        self._readers = {}          # (model, columns) -> [(field name, python_value)]

    def sql(self, **values):
        """(sql, params) for the running node's database, ``values`` in the slots."""
        kind = type(database.obj)
        compiled = self._compiled.get(kind)
        if compiled is None:
            compiled = self._compiled[kind] = self.build().sql()
        sql, params = compiled
        return sql, [values[p.name] if type(p) is _Slot else p for p in params]

    def execute(self, **values):
        """Run it on the running node's connection; answers the cursor."""
        return database.execute_sql(*self.sql(**values))

    def rows(self, model, **values):
        """The rows it selects, as instances of ``model`` (built as peewee builds them
        from a select, without its cursor wrapper: three quarters of a query's time)."""
        cursor = self.execute(**values)
        names = tuple(d[0] for d in cursor.description)
        read = self._readers.get((model, names))
        if read is None:
            by_column = model._meta.columns
            read = self._readers[model, names] = [
                (by_column[c].name, python_value(by_column[c])) for c in names]
        found = []
        for values in cursor:
            row = model(__no_default__=True)
            row.__data__ = {name: None if value is None else convert(value)
                            for (name, convert), value in zip(read, values)}
            found.append(row)
        return found

    def first(self, model, **values):
        """The first row it selects (as ``rows``), or None."""
        found = self.rows(model, **values)
        return found[0] if found else None


def stored_datetime(value):
    """Whether value is a datetime as peewee stores it on SQLite (``str()`` of it: its
    ``isoformat()`` with a space for the "T")."""
    return isinstance(value, str) and len(value) in (19, 26) and value[10] == " "


def python_value(field):
    """A stored value as the field's Python value; a datetime as peewee stores it on
    SQLite is read by ``fromisoformat`` (peewee tries strptime formats in turn)."""
    if isinstance(field, peewee.DateTimeField):
        def read(value):
            if stored_datetime(value):
                return datetime.datetime.fromisoformat(value)
            return field.python_value(value)
        return read
    return field.python_value


def for_update(query):
    """``query``, locking the rows it reads until the transaction ends where several
    processes write (PostgreSQL); SQLite's one writer needs no lock."""
    return query.for_update() if database.obj.for_update else query


def lock_key(text):
    """(In a transaction) Wait until no other transaction holds ``text``, and hold it
    until this one ends (PostgreSQL's advisory locks; SQLite's one writer needs none)."""
    db = database.obj
    if is_postgres(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (text,))


COMMITS_CHANNEL = "branchline_commits"
REVOCATIONS_CHANNEL = "branchline_revocations"    # a trigger on revoked_tokens (0014)
EDGES_CHANNEL = "branchline_edges"        # a trigger on sync_nodes: enrolled, retired (0015)
NOTICE_CHANNELS = (REVOCATIONS_CHANNEL, EDGES_CHANNEL)


def announce_commit(db, sender):
    """(In the transaction, before it commits) Tell the other processes' listeners
    that a transaction wrote; PostgreSQL delivers it at commit, or never."""
    db.execute_sql("SELECT pg_notify(%s, %s)", (COMMITS_CHANNEL, sender))


class CommitListener:
    """A thread waiting on its own connection (LISTEN) for commits announced by
    other processes (``announce_commit``): ``on_commit()`` runs once per burst of
    them; and for the notices of NOTICE_CHANNELS (a token revoked, an edge
    enrolled or retired, by any process): ``on_notice(channel, payloads)``.
    Whatever was announced while the connection was lost is never delivered: once
    it is back (and on the first connection), ``on_connect()`` re-reads what the
    notices would have said (it runs after LISTEN, so nothing slips between),
    then ``on_commit()`` runs; should ``on_connect`` fail, the connection is made
    again. It sleeps in select(), so an idle cloud uses no CPU."""

    RETRY_MIN, RETRY_MAX = 0.5, 30.0

    def __init__(self, db, sender, on_commit, on_notice, on_connect):
        self.params = dict(db.connect_params, dbname=db.database)
        self.sender = sender
        self.on_commit, self.on_notice, self.on_connect = on_commit, on_notice, on_connect
        self.backend_pid = None       # the server process of its connection (tests cut it)
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="commit-listener", daemon=True)
        self._thread.start()

    def _connect(self):
        import psycopg2     # the postgres extra; only a cloud on PostgreSQL gets here
        conn = psycopg2.connect(**self.params)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("; ".join("LISTEN %s" % channel
                                     for channel in (COMMITS_CHANNEL, *NOTICE_CHANNELS)))
        self.backend_pid = conn.get_backend_pid()
        return conn

    def _run(self):
        retry, conn = self.RETRY_MIN, None
        while True:
            try:
                if conn is None:
                    conn = self._connect()
                    self.on_connect()
                    retry = self.RETRY_MIN
                    self.on_commit()
                ready, _, _ = select.select([conn, self._stop_r], [], [])
                if self._stop_r in ready:
                    break
                conn.poll()
                notices = {channel: {n.payload for n in conn.notifies if n.channel == channel}
                           for channel in NOTICE_CHANNELS}
                theirs = [n for n in conn.notifies
                          if n.channel == COMMITS_CHANNEL and n.payload != self.sender]
                conn.notifies.clear()
                for channel, payloads in notices.items():
                    if payloads:
                        self.on_notice(channel, payloads)
                if theirs:
                    self.on_commit()
            except Exception as exc:    # noqa: BLE001 - the server went away: try again
                log.warning("commit listener: %s; again in %.1f s", exc, retry)
                if conn is not None:
                    conn.close()
                    conn = None
                if select.select([self._stop_r], [], [], retry)[0]:
                    break
                retry = min(self.RETRY_MAX, retry * 2)
        if conn is not None:
            conn.close()

    def stop(self):
        os.write(self._stop_w, b"x")
        self._thread.join()
        os.close(self._stop_r)
        os.close(self._stop_w)
