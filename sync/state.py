"""A node's sync positions, kept in ``sync_state`` and written in the same
transaction as the work they describe."""

import datetime

from protocol import wire

from .models import SyncState

ACKED = "acked"              # edge: last change seq the cloud confirmed
CURSOR = "cursor"            # edge: last cloud change applied here
LAST_PUSH = "last_push_at"
LAST_PULL = "last_pull_at"
PUSH_ERROR = "last_push_error"   # edge: why the last push failed, until one succeeds
PULL_ERROR = "last_pull_error"   # edge: why the last pull failed, until one succeeds


def get(key, default=None):
    row = SyncState.get_or_none(SyncState.key == key)
    return row.value if row is not None else default


def get_int(key, default=0):
    return int(get(key, default))


def put(key, value):
    SyncState.insert(key=key, value=str(value)).on_conflict(
        conflict_target=[SyncState.key], update={SyncState.value: str(value)}).execute()


def put_error(key, now, message):
    """Record a failure for the status page (``get_error``) until ``clear``."""
    put(key, wire.dumps({"at": now.isoformat() + "Z", "error": message}))


def get_error(key):
    """{"at", "error"} of the failure recorded under ``key``, or None."""
    value = get(key)
    return wire.loads(value) if value else None


def clear(key):
    SyncState.delete().where(SyncState.key == key).execute()


def get_time(key):
    value = get(key)
    return datetime.datetime.fromisoformat(value) if value else None
