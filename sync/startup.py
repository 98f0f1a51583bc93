"""How a node's parts are opened, the same way for an edge, the cloud, their
command-line tools, the demo and the tests.

``open_store`` opens a node's database (SQLite in its data directory, or the one given:
the cloud's, protocol/postgres_pool.py ``open_node_database``): migrations, sync's
capture triggers, and the id allocator resumed after the highest id of the node in any
table, the domain's and sync's. ``open_node`` adds the node's keys and realtime hub and
returns the ``protocol.node.Node`` that edge/server.py and cloud/server.py, the
composition roots, hand to their app and sync loops.
"""

from protocol import models, realtime
from protocol.clock import Clock
from protocol.database import open_sqlite
from protocol.node import build_node, data_paths
from protocol.store import Store

from . import capture
from .models import SYNC_MODELS

SCHEMA = models.ALL_MODELS + SYNC_MODELS


def open_store(path, node_id, *, clock=None, db=None):
    """The Store of a node's database: ``db`` (the cloud's: protocol/postgres_pool.py
    ``open_database``), else SQLite at ``path``, ready to use."""
    store = Store(db or open_sqlite(path), node_id=node_id,
                  clock=clock or Clock())
    return store.open(SCHEMA, on_open=[capture.install_triggers])


def open_node(settings, *, clock=None, db=None):
    """The node described by ``settings``: its store (over ``db``, else SQLite in its
    data directory), keys and realtime hub; nothing listens yet. A cloud's settings that
    name a ``database_url`` need its ``db`` (so none runs on SQLite by mistake)."""
    if db is None and settings.values.get("database_url"):
        raise ValueError("database_url is set: open it (postgres_pool.open_node_database) "
                         "and pass it as db")
    clock = clock or Clock()
    paths = data_paths(settings)
    store = open_store(paths["database"], settings.node_id, clock=clock, db=db)
    try:
        hub = realtime.make_hub(settings, paths["keys"], clock)
        return build_node(settings, store=store, hub=hub)
    except BaseException:
        store.close()
        raise
