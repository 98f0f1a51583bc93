"""The edge applying what it pulled from the cloud.

Pulled changes are written as the cloud's (origin 1), so they are not pushed
back, and the cursor moves in the same transaction. A row this edge changed
that has not reached the cloud yet is left as it is: its local state goes up
and becomes the cloud's (such rows are the branch's own, which the cloud only
changes through commands run here); shared rows merge field by field instead.
Caches that read the catalog are told to forget it. Applying, and what is
refused for good rather than failing the pull, is sync/apply.py's.
"""

from protocol import accounts, ids, pricing

from . import apply, capture, merge, ownership, rows, state
from .models import ChangeLog

CLOUD = ids.CLOUD_NODE_ID


def _pending_local(changes):
    """(table, id) pairs with a local change the cloud has not acknowledged
    (shared rows are merged field by field instead: sync/merge.py)."""
    acked = state.get_int(state.ACKED)
    keys = {(c["table"], c["id"]) for c in changes if not merge.has_clocks(c["table"])}
    if not keys:
        return set()
    pending = set()
    for entry in ChangeLog.select(ChangeLog.table_name, ChangeLog.row_id).where(
            (ChangeLog.origin == 0) & (ChangeLog.seq > acked) &
            ChangeLog.row_id.in_([k[1] for k in keys])):
        pending.add((entry.table_name, entry.row_id))
    return pending & keys


# Head office's tables, which price books and remembered actors are read from: a
# batch of only commands, customers or the branch's own rows keeps them.
CACHED_FROM = frozenset(t for t, owner in ownership.OWNERS.items()
                        if owner == ownership.CLOUD) - {"sync_commands"}


def apply_feed(batch, now):
    """Apply a pulled batch and move the cursor; answers how many were applied.
    A change refused for good is parked (sync/apply.py); any other error fails
    the whole pull, which is tried again."""
    changes = batch["changes"]
    pending = _pending_local(changes)
    applied, _ = apply.apply_all([c for c in changes if (c["table"], c["id"]) not in pending],
                                 CLOUD, now)
    state.put(state.CURSOR, max(state.get_int(state.CURSOR), int(batch["upto"])))
    state.put(state.LAST_PULL, now.isoformat())
    state.clear(state.PULL_ERROR)
    if any(c["table"] in CACHED_FROM for c in changes):
        pricing.invalidate()
        accounts.forget_actors()
    return applied


def apply_snapshot_rows(table, page):
    """A page of the snapshot a box downloads when it enrolls (edge/cli.py)."""
    run = [{"table": table, "id": row.get("id"), "op": "upsert", "row": row} for row in page]
    with capture.applying_from(CLOUD):
        if not rows.apply_run(run):
            for row in page:
                rows.upsert(table, row)
