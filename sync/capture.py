"""Capture: every write to a replicated table is logged, by the database itself.

Triggers on each replicated table append (table, row id, upsert|delete, origin,
the row's branch and restaurant) to ``change_log`` inside the writing
transaction, so no domain operation can forget to, whatever way it writes
(model saves, bulk updates, raw SQL). ``origin`` comes from ``sync_origin``:
0 for this node's own writes; while changes from another node are applied,
``applying_from(node_id)`` sets it, so they are not sent back where they came
from.

A row that belongs to a branch, written at the cloud as applied from an edge,
is not logged at all (``_UNREAD``): the cloud's log is read only by its feed
(sync/feed.py), which sends a branch's rows to that branch's edge alone, never
the edge's own changes back to it; one edge runs a branch at a time
(sync/enrollment.py retires the one before, and sync/ingest.py applies nothing
from a retired box), and a replacement box starts from a snapshot of the tables,
not from the log. An edge applies only its branch's rows (sync/ingest.py
refuses the others), so these entries are ones no node would ever read; writing
them cost the cloud an insert per row and its feed a scan past them. Rows of no
branch (customers, addresses, revocations) are logged as before: other edges
read them. ``log_entries`` and ``coalesce`` turn a stretch of the log into changes,
each carrying its row's latest state (sync/rows.py encodes it).

On PostgreSQL (the cloud's, when it outgrows one machine) the triggers are
plpgsql functions and the log's sequence follows transaction ids, so that a
feed never skips a change committed late: sync/postgres.py says how.
"""

import contextlib

import peewee

from protocol import ids
from protocol.database import Prepared, database, is_postgres, slot

from . import ownership, postgres
from .models import ChangeLog, SyncOrigin
from .rows import read_rows

# Origins above the cloud's are edges (protocol/ids.py): see the docstring.
_UNREAD = "(SELECT origin FROM sync_origin WHERE id = 1) > %d AND ({branch}) IS NOT NULL" % (
    ids.CLOUD_NODE_ID)

_TRIGGER = """CREATE TRIGGER bl_{table}_{event} AFTER {verb} ON {table}
WHEN NOT (%s) BEGIN""" % _UNREAD + """
INSERT INTO change_log (table_name, row_id, op, origin, branch_id, restaurant_id, created_at)
VALUES ('{table}', {row}.id, '{op}', (SELECT origin FROM sync_origin WHERE id = 1),
        {branch}, {restaurant}, strftime('%Y-%m-%d %H:%M:%f', 'now'));
END"""


def trigger_sql(table):
    statements = []
    for event, verb, row, op in (("ins", "INSERT", "NEW", "upsert"),
                                 ("upd", "UPDATE", "NEW", "upsert"),
                                 ("del", "DELETE", "OLD", "delete")):
        branch, restaurant = ownership.scope_sql(table, lambda name, row=row: "%s.%s" % (row, name))
        statements.append(("bl_%s_%s" % (table, event), _TRIGGER.format(
            table=table, event=event, verb=verb, row=row, op=op, branch=branch,
            restaurant=restaurant)))
    return statements


def install_triggers(db):
    """(Re)create the capture triggers; run at every start, after migrations."""
    if is_postgres(db):
        return postgres.install_triggers(db)
    if not isinstance(db, peewee.SqliteDatabase):
        raise NotImplementedError("change capture is implemented for SQLite and PostgreSQL")
    with db.atomic():
        for table in ownership.REPLICATED:
            for name, sql in trigger_sql(table):
                db.execute_sql("DROP TRIGGER IF EXISTS %s" % name)
                db.execute_sql(sql)


_SET_ORIGIN = Prepared(lambda: SyncOrigin.update(origin=slot("origin")).where(SyncOrigin.id == 1))


@contextlib.contextmanager
def applying_from(node_id):
    """Write what follows as changes that came from ``node_id``."""
    db = database.obj
    if is_postgres(db):
        postgres.set_origin(db, node_id)
    else:
        _SET_ORIGIN.execute(origin=node_id)
    try:
        yield
    finally:
        if is_postgres(db):
            postgres.set_origin(db, 0)
        else:
            _SET_ORIGIN.execute(origin=0)


def coalesce(log_rows, *, for_edge=False):
    """Changes for change-log entries, (seq, table_name, row_id, op) in seq order
    (``log_entries``): the latest state of each row they touched (a row changed
    five times is sent once), tagged with its last seq."""
    latest = {}
    for entry in log_rows:
        latest[entry[1], entry[2]] = entry
    by_table = {}
    for (table, row_id), (_, _, _, op) in latest.items():
        if op == "upsert":
            by_table.setdefault(table, []).append(row_id)
    rows = {table: read_rows(table, ids, for_edge=for_edge) for table, ids in by_table.items()}
    changes = []
    for seq, table, row_id, _ in sorted(latest.values()):
        row = rows.get(table, {}).get(row_id)
        if row is None:
            changes.append({"seq": seq, "table": table, "id": row_id, "op": "delete"})
        else:
            changes.append({"seq": seq, "table": table, "id": row_id, "op": "upsert",
                            "row": row})
    return changes


def log_entries(query, **values):
    """The entries a Prepared change-log ``query`` selects (seq, table_name, row_id,
    op, in seq order) run with ``values``, as tuples, for ``coalesce``."""
    # Read by the cursor itself: the four columns need no conversion, and building
    # a peewee row for each of a thousand entries was a third of reading a batch.
    return [tuple(entry) for entry in query.execute(**values)]
