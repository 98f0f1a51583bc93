"""The edge's outgoing changes: batches to push, and what the cloud answered.

A batch is the edge's own change-log entries after the last acknowledged
sequence number (``after``), up to ``upto``, as the latest state of each row
they touched. The acknowledged position moves only when the cloud has answered,
in the same transaction that parks the changes it refused for good, one by one
(``record_answer``) or the whole batch (``park_batch``).
"""

import peewee

from protocol import wire
from protocol.database import Prepared, database, slot

from . import apply, capture, state
from .models import ChangeLog, DeadLetter

BATCH_SIZE = 1000                 # change-log entries read for one batch, at most
BATCH_BYTES = 512 * 1024          # and its JSON well under the cloud's body limit (1 MiB)
CLOUD_AHEAD = (
    "held: the cloud has this box's changes up to %d, beyond the newest this database "
    "made (%d); it is an older copy of the box than what the cloud received (put back by "
    "hand?). Nothing more is sent, so nothing new is lost. Restore boxes with "
    "'branchline-edge restore' (it leaves room past what the cloud has); to go on with "
    "this one, enroll it afresh ('branchline-edge enroll --force' with a new code: the "
    "files set aside keep what it took since).")


# The edge's own entries after a position, but those parked: read for every batch
# pushed, built once (Prepared); (seq, table_name, row_id, op) as capture.coalesce takes.
_UNSENT = Prepared(lambda: ChangeLog.select(
    ChangeLog.seq, ChangeLog.table_name, ChangeLog.row_id, ChangeLog.op).where(
    (ChangeLog.origin == 0) & (ChangeLog.seq > slot("after")) & ChangeLog.seq.not_in(
        DeadLetter.select(DeadLetter.seq).where(DeadLetter.node_id == 0)))
    .order_by(ChangeLog.seq).limit(slot("limit")))


def next_batch(after=None, limit=None, max_bytes=BATCH_BYTES):
    """{"after", "upto", "changes"} of unsent changes after ``after`` (default: the
    acknowledged position), at most ``limit`` entries (default BATCH_SIZE), or None
    when all are sent. Changes parked here are
    never sent again: when the cloud is behind them (it refused their batch
    whole, so its mark did not move, and the edge rewound to it), a batch with
    none of them, or an empty one, moves it past them. A batch whose JSON would
    pass ``max_bytes`` covers a shorter run of the log: it ends before the first
    entry of a row that does not fit, so every row it includes was first written
    inside it (a parent is never left behind by its child), and rows it includes
    at a state newer than ``upto`` come again in the next batch (harmless). None
    while the outbox is held (``record_answer``): the cloud would skip what it holds
    numbers for and take the rest."""
    if state.get_int(state.HELD):
        return None
    after = state.get_int(state.ACKED) if after is None else after
    limit = limit or BATCH_SIZE
    entries = [tuple(entry) for entry in _UNSENT.execute(after=after, limit=limit)]
    if not entries:
        unsent = (ChangeLog.origin == 0) & (ChangeLog.seq > after)
        last_parked = ChangeLog.select(peewee.fn.MAX(ChangeLog.seq)).where(unsent).scalar()
        return last_parked and {"after": after, "upto": last_parked, "changes": []}
    changes = capture.coalesce(entries)
    size_of = {(c["table"], c["id"]): len(wire.dumps_bytes(c)) + 1 for c in changes}
    included, size = set(), 0
    for n, (_, table, row_id, _) in enumerate(entries):
        key = (table, row_id)
        if key in included:
            continue
        if size + size_of[key] > max_bytes and n > 0:
            return {"after": after, "upto": entries[n - 1][0],
                    "changes": [c for c in changes if (c["table"], c["id"]) in included]}
        included.add(key)
        size += size_of[key]
    return {"after": after, "upto": entries[-1][0], "changes": changes}


def last_issued():
    """The highest change number this database ever gave out (SQLite's AUTOINCREMENT
    counter: entries pruned or not)."""
    row = database.obj.execute_sql(
        "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'").fetchone()
    return row[0] if row else 0


def record_answer(batch, answer, now):
    """The cloud applied everything up to its high-water mark; park refusals. None,
    acknowledging nothing, when that mark is beyond every change number this
    database gave out: it is an older copy of the box than what the cloud received
    (its database put back by hand; ``branchline-edge restore`` leaves room:
    sync/restored.py). Acknowledging would skip every change it makes until its
    numbers pass the mark, so the outbox is held, and the status page says why. Held
    for good (``state.HELD``): the numbers this copy gives out later pass the mark
    without making its changes the cloud's; re-enrolling the box ends it."""
    mark, issued = int(answer["high_water_mark"]), last_issued()
    held = state.get_int(state.HELD)
    if held or mark > issued:
        if not held:
            state.put(state.HELD, mark)
        state.put_error(state.PUSH_ERROR, now, CLOUD_AHEAD % (max(mark, held), issued))
        return None
    changes = {c["seq"]: c for c in batch["changes"]}
    before = state.get_int(state.ACKED)
    for rejection in answer.get("rejected", []):
        if rejection["seq"] <= before:
            continue      # parked when this answer first arrived
        change = changes.get(rejection["seq"]) or {
            "seq": rejection["seq"], "table": rejection.get("table", ""),
            "id": rejection.get("id", 0)}
        apply.park(0, change, rejection["reason"], now)
    return _acknowledge(before, int(answer["high_water_mark"]), now)


def park_batch(batch, reason, now):
    """The cloud refused the whole batch for good (a 4xx that is not about
    authentication, a gap or the rate): its changes become dead letters with the
    cloud's reason, and the acknowledged position moves past them."""
    before = state.get_int(state.ACKED)
    for change in batch["changes"]:
        if change["seq"] > before:
            apply.park(0, change, reason, now)
    return _acknowledge(before, int(batch["upto"]), now)


def _acknowledge(before, upto, now):
    acked = max(before, upto)
    state.put(state.ACKED, acked)
    state.put(state.LAST_PUSH, now.isoformat())
    state.clear(state.PUSH_ERROR)
    return acked


def rewind(high_water_mark):
    """The cloud has less than we thought (it was restored): send again from there."""
    state.put(state.ACKED, int(high_water_mark))
