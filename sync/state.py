"""A node's sync positions, kept in ``sync_state`` and written in the same
transaction as the work they describe."""

import datetime

from .models import SyncState

ACKED = "acked"              # edge: last change seq the cloud confirmed
CURSOR = "cursor"            # edge: last cloud change applied here
LAST_PUSH = "last_push_at"
LAST_PULL = "last_pull_at"


def get(key, default=None):
    row = SyncState.get_or_none(SyncState.key == key)
    return row.value if row is not None else default


def get_int(key, default=0):
    return int(get(key, default))


def put(key, value):
    SyncState.insert(key=key, value=str(value)).on_conflict(
        conflict_target=[SyncState.key], update={SyncState.value: str(value)}).execute()


def get_time(key):
    value = get(key)
    return datetime.datetime.fromisoformat(value) if value else None
