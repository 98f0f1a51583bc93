"""The real PostgreSQL server the tests of the cloud on PostgreSQL run against.

Its address comes from ``BRANCHLINE_TEST_POSTGRES`` (default
postgresql://postgres@127.0.0.1:5432/postgres: trust auth, user postgres). A run
makes its own databases, all named ``bl_test_<run>_<n>`` (``create``), and
drops them: a test's own while the next test runs (``release``, on a thread of its own:
a drop waits for the disk, and the next test need not), the rest at the end (``drop_all``),
so runs on one server never meet. When no
server answers, the tests that need one are skipped with the reason, unless
``BRANCHLINE_REQUIRE_POSTGRES`` is set (CI: .ci/run), where they fail instead.
"""

import concurrent.futures
import datetime
import itertools
import os
import re
import urllib.parse
import uuid

import peewee

URL = os.environ.get("BRANCHLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRED = bool(os.environ.get("BRANCHLINE_REQUIRE_POSTGRES"))


class Unavailable(Exception):
    """No PostgreSQL server to test against (the reason is the message)."""


class PostgresServer:
    def __init__(self, url=URL):
        try:
            import psycopg2
        except ImportError as exc:
            raise Unavailable("psycopg2 is not installed (pip install '.[postgres]'): %s" % exc)
        self.url = url
        self.psycopg2 = psycopg2
        try:
            self.admin = psycopg2.connect(url, connect_timeout=3)
        except psycopg2.Error as exc:
            raise Unavailable("no PostgreSQL server at %s (set BRANCHLINE_TEST_POSTGRES): %s"
                              % (url, str(exc).strip().splitlines()[0]))
        self.admin.autocommit = True
        self.prefix = "bl_test_%s" % uuid.uuid4().hex[:10]
        self.names = itertools.count(1)
        self.created = []
        self.finished = []
        self.dropper = concurrent.futures.ThreadPoolExecutor(1, "pg-drop")

    def url_of(self, name):
        parts = urllib.parse.urlparse(self.url)
        return urllib.parse.urlunparse(parts._replace(path="/" + name))

    def create(self, template=None):
        """A new empty database (text sorted by code point, as SQLite does), or a
        copy of ``template`` (a database of this run nobody is connected to);
        answers its URL."""
        if self.finished:
            self.dropper.submit(self._drop, self.finished)
            self.finished = []
        name = "%s_%d" % (self.prefix, next(self.names))
        with self.admin.cursor() as cursor:
            if template:
                cursor.execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (name, template))
            else:
                cursor.execute("CREATE DATABASE \"%s\" TEMPLATE template0 ENCODING 'UTF8' "
                               "LC_COLLATE 'C' LC_CTYPE 'C'" % name)
        self.created.append(name)
        return self.url_of(name)

    @staticmethod
    def name_of(url):
        return urllib.parse.urlparse(url).path.strip("/")

    def release(self, url):
        """A database its test is done with: dropped in the background once the next
        database is made (by then every fixture of that test, which may still hold a
        connection to it, is torn down)."""
        name = self.name_of(url)
        self.created.remove(name)
        self.finished.append(name)

    def _drop(self, names):
        conn = self.psycopg2.connect(self.url)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                for name in names:
                    cursor.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
        finally:
            conn.close()

    def drop_all(self):
        self.dropper.shutdown(wait=True)
        self._drop(self.finished + list(reversed(self.created)))
        self.created = []
        self.admin.close()


def connect(url):
    """A DB-API connection to a PostgreSQL database that reads SQL written for
    sqlite3 (``?`` and ``:name`` parameters), with rows by index and by name and
    values as sqlite3 would give them (``sqlite_value``)."""
    import psycopg2
    return SqliteLike(psycopg2.connect(url))


def sqlite_value(value):
    """A value read from PostgreSQL as sqlite3 reads it from a peewee-written
    SQLite file: datetimes as the text peewee stores, booleans as 0/1."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return str(value)
    return value


class Row(tuple):
    def __new__(cls, values, names):
        row = super().__new__(cls, values)
        row.names = names
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self):
        return list(self.names)


class Rows(list):
    def fetchone(self):
        return self[0] if self else None


class SqliteLike:
    def __init__(self, conn):
        self.conn = conn
        self.conn.autocommit = True

    def execute(self, sql, params=()):
        if isinstance(params, dict):
            sql = re.sub(r":(\w+)", r"%(\1)s", sql)
        else:
            sql = sql.replace("?", "%s")
        cursor = self.conn.cursor()
        cursor.execute(sql, params)
        if cursor.description is None:
            return Rows()
        names = [d[0] for d in cursor.description]
        return Rows(Row([sqlite_value(v) for v in values], names) for values in cursor.fetchall())

    def close(self):
        self.conn.close()


def copy_rows(models, source, target):
    """Copy every row of ``models`` (parents first) from Store ``source`` into
    Store ``target`` (both migrated; rows already in the target are kept)."""
    for model in models:
        fields = model._meta.sorted_fields
        rows = source.call(lambda: list(model.select(*fields).tuples()))
        if not rows:
            continue

        def insert(model=model, rows=rows, fields=fields):
            for start in range(0, len(rows), 500):
                model.insert_many(rows[start:start + 500], fields=fields).on_conflict_ignore(
                    ).execute()
            if isinstance(model._meta.primary_key, peewee.AutoField):
                table = model._meta.table_name
                key = model._meta.primary_key.column_name
                model._meta.database.execute_sql(
                    "SELECT setval(pg_get_serial_sequence('%s', '%s'), "
                    "(SELECT max(%s) FROM %s))" % (table, key, key, table))
        target.call(insert)
