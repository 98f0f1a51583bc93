"""The edge applying what it pulled from the cloud.

Pulled changes are written as the cloud's (origin 1), so they are not pushed
back, and the cursor moves in the same transaction. A row this edge changed
that has not reached the cloud yet is left as it is: its local state goes up
and becomes the cloud's (such rows are the branch's own, which the cloud only
changes through commands run here); shared rows merge field by field instead. Caches that read the catalog are told to forget it.
"""

from protocol import accounts, ids, pricing
from protocol.database import database

from . import capture, merge, state
from .models import ChangeLog, DeadLetter

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


def apply_feed(batch, now):
    """Apply a pulled batch and move the cursor; answers how many were applied."""
    changes = batch["changes"]
    pending = _pending_local(changes)
    applied = 0
    with capture.applying_from(CLOUD):
        wanted = [c for c in capture.in_apply_order(changes)
                  if (c["table"], c["id"]) not in pending]
        for run in capture.runs(wanted):
            if capture.apply_run(run):
                applied += len(run)
                continue
            for change in run:
                try:
                    with database.atomic():
                        capture.apply_change(change)
                    applied += 1
                except Exception as exc:      # noqa: BLE001 - parked, never blocks the feed
                    DeadLetter.create(node_id=CLOUD, seq=change["seq"],
                                      table_name=str(change.get("table")),
                                      row_id=int(change.get("id") or 0),
                                      reason="could not apply: %s" % exc, created_at=now)
    capture.remember_revocations(changes)
    state.put(state.CURSOR, max(state.get_int(state.CURSOR), int(batch["upto"])))
    state.put(state.LAST_PULL, now.isoformat())
    if changes:
        pricing.invalidate()
        accounts.forget_actors()
    return applied


def apply_snapshot_rows(table, rows):
    run = [{"table": table, "id": row.get("id"), "op": "upsert", "row": row} for row in rows]
    with capture.applying_from(CLOUD):
        if not capture.apply_run(run):
            for row in rows:
                capture.upsert(table, row)
