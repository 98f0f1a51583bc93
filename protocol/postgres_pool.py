"""Opening the cloud's PostgreSQL database from its ``database_url``: a pool of
connections (playhouse.pool; protocol/database.py says how it is used). An edge runs
on SQLite only and never imports this module, nor the URL parser of peewee's
playhouse, which loads a module for every database peewee knows (0.7 MB).
"""

import urllib.parse

from playhouse import db_url
from playhouse.pool import PooledPostgresqlDatabase

from .database import open_sqlite
from .node import data_paths

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


def open_node_database(settings):
    """The database a node's settings name: PostgreSQL at ``database_url``, else SQLite
    in its data directory (sync/startup.py ``open_node`` takes it as ``db``)."""
    return open_database(settings.values.get("database_url") or "",
                         data_paths(settings)["database"])
