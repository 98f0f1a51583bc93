"""A node's sync positions, kept in ``sync_state`` and written in the same
transaction as the work they describe."""

import datetime

from protocol import wire
from protocol.database import Prepared, slot

from .models import SyncState

ACKED = "acked"              # edge: last change seq the cloud confirmed
CURSOR = "cursor"            # edge: last cloud change applied here
LAST_PUSH = "last_push_at"
LAST_PULL = "last_pull_at"
HELD = "held_at_cloud_mark"  # edge: the cloud's mark, found beyond this database's numbers
PUSH_ERROR = "last_push_error"   # edge: why the last push failed, until one succeeds
PULL_ERROR = "last_pull_error"   # edge: why the last pull failed, until one succeeds


# Read and written around every batch the sync loops move: built once (Prepared).
_GET = Prepared(lambda: SyncState.select(SyncState.value).where(SyncState.key == slot("key")))
_PUT = Prepared(lambda: SyncState.insert(key=slot("key"), value=slot("value")).on_conflict(
    conflict_target=[SyncState.key], update={SyncState.value: slot("value")}))
_CLEAR = Prepared(lambda: SyncState.delete().where(SyncState.key == slot("key")))


def get(key, default=None):
    row = _GET.execute(key=key).fetchone()
    return row[0] if row is not None else default


def get_int(key, default=0):
    return int(get(key, default))


def put(key, value):
    _PUT.execute(key=key, value=str(value))


def put_error(key, now, message):
    """Record a failure for the status page (``get_error``) until ``clear``."""
    put(key, wire.dumps({"at": now.isoformat() + "Z", "error": message}))


def get_error(key):
    """{"at", "error"} of the failure recorded under ``key``, or None."""
    value = get(key)
    return wire.loads(value) if value else None


def clear(key):
    _CLEAR.execute(key=key)


def get_time(key):
    value = get(key)
    return datetime.datetime.fromisoformat(value) if value else None
