"""A node restored from a backup leaves room for what it did after the backup.

A backup is of a moment; an edge may have gone on taking orders and pushing
them before its disk was lost. The cloud then holds changes of this box numbered
beyond the backup's last (its high-water mark for the edge is ahead), and rows
with ids beyond the backup's highest. A restored box that numbered on from its
backup would make changes the cloud takes for ones it already applied (at or
below its mark: dropped without a word) and rows with ids the cloud already
holds for other orders (merged over them).

So ``branchline-edge restore`` calls ``leave_room`` on the restored database,
before the box serves: its change numbers and its ids go on ROOM past the
backup's. Nothing the restored box makes can then collide with, or hide behind,
what the lost box sent: its next push carries changes above the cloud's mark
(the cloud applies them; what the backup's outbox still held and the cloud
already has is below the mark and not applied twice), and its ids are new. No
contact with the cloud is needed, so a box restored while the cloud is out of
reach takes orders at once. ROOM is far more than a box makes between two backups
(2^32 changes or rows); the 2^40 ids of a node leave room for 256 restores.
What the lost box made after the backup is at the cloud (head office sees it),
not on the restored box: the cloud does not feed a branch's own rows back to
its edge.

The cloud restored from an older ``pg_dump`` has the same hazard with its ids:
rows it made after the dump (edges pulled them) have ids it would hand out
again. ``branchline-cloud restored`` leaves the same room for its ids
(``reserved_ids``: the next start takes no block of ids below it). Its change
numbers are transaction ids on PostgreSQL (sync/postgres.py), which only grow on
one server, so there is nothing to move there (README: restoring the cloud).
"""

from protocol import models
from protocol.database import database, is_sqlite
from protocol.store import current_store, highest_id

from . import outbox
from .startup import SCHEMA

ROOM = 2 ** 32


def leave_room(now, room=ROOM):
    """(Store thread, a restored node's database) Move the id counter and, on SQLite,
    the change numbers ``room`` past the backup's; answers (the last change number
    reserved or None, the last id reserved)."""
    db = database.obj
    reserved_seq = None
    if is_sqlite(db):
        reserved_seq = outbox.last_issued() + room
        if not db.execute_sql("UPDATE sqlite_sequence SET seq = ? WHERE name = 'change_log'",
                              (reserved_seq,)).rowcount:
            db.execute_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('change_log', ?)",
                           (reserved_seq,))
    allocator = current_store().allocator
    last_id = highest_id(SCHEMA, allocator.low, allocator.high) or allocator.low
    reserved_id = min(last_id + room, allocator.high - 1)
    models.ReservedId.create(id=reserved_id, created_at=now,
                             reason="restored from a backup: room for the ids used after it")
    current_store().resume_ids(SCHEMA)      # PostgreSQL: no block of ids below it either
    return reserved_seq, reserved_id
