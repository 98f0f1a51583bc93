"""What an edge may pull from the cloud: its feed of changes, and snapshots.

The feed is the cloud's change log after the edge's cursor, less what came
from that edge itself, limited to rows the branch may see (its own, its
restaurant's, global ones: sync/ownership.py), each as its latest state, with
credentials left out. A snapshot is the same view of the tables themselves,
page by page, for a box that enrolls.

On PostgreSQL the feed reads only below the watermark (sync/postgres.py): every
change under it has committed or never will, so a cursor never passes one that
commits late.
"""

import peewee

from protocol.database import Prepared, database, is_postgres, slot

from . import capture, ownership, postgres
from .models import ChangeLog, SyncNode
from .rows import RANK, read_rows

BATCH_SIZE = 500


def _watermark():
    """The position below which no transaction can still add to the change log or
    take from it, on PostgreSQL (sync/postgres.py); None on SQLite, where all of it
    is final (one writer)."""
    db = database.obj
    return postgres.watermark(db) if is_postgres(db) else None


def _final_part(query):
    """``query`` kept to the final part of the log, below ``slot("watermark")``, on
    PostgreSQL (built once per kind of database: Prepared)."""
    return query.where(ChangeLog.seq < slot("watermark")) if is_postgres(database.obj) else query


def _for_edge(after, node_id, branch_id, restaurant_id):
    """The log entries after ``after`` an edge may pull: not its own, of rows its
    branch may see."""
    visible = ((ChangeLog.branch_id == branch_id) |
               (ChangeLog.branch_id.is_null() &
                ((ChangeLog.restaurant_id == restaurant_id) | ChangeLog.restaurant_id.is_null())))
    return (ChangeLog.seq > after) & (ChangeLog.origin != node_id) & visible


# A waiting long poll looks again after every commit at the cloud (an edge's pushes
# among them): built once (Prepared), not by peewee for every look.
_HEAD = Prepared(lambda: _final_part(ChangeLog.select(ChangeLog.seq))
                 .order_by(ChangeLog.seq.desc()).limit(1))
_NODE = Prepared(lambda: SyncNode.select().where(SyncNode.node_id == slot("node_id")))
_ENTRIES = Prepared(lambda: _final_part(ChangeLog.select(
    ChangeLog.seq, ChangeLog.table_name, ChangeLog.row_id, ChangeLog.op).where(_for_edge(
        slot("after"), slot("node_id"), slot("branch_id"), slot("restaurant_id"))))
    .order_by(ChangeLog.seq).limit(slot("limit")))


def _head(watermark):
    row = _HEAD.execute(watermark=watermark).fetchone()
    return row[0] if row else 0


def head():
    """The newest change sequence number at the cloud that a feed may pass."""
    return _head(_watermark())


def lag(cursor, head):
    """Changes logged after ``cursor`` up to ``head``: what an edge has yet to confirm."""
    return ChangeLog.select().where((ChangeLog.seq > cursor) & (ChangeLog.seq <= head)).count()


def changes_for(node_id, after, now, limit=BATCH_SIZE, record=True):
    """{"after", "upto", "changes", "held"} for edge ``node_id`` after its cursor
    (``held``: changes for it have committed above the watermark, and will be
    readable once the transactions below them end); also records that the edge
    has everything up to ``after`` and asked now (``record``: a long poll looking
    again after a commit has nothing new to record)."""
    node = _NODE.first(SyncNode, node_id=node_id)
    if node is None:
        raise SyncNode.DoesNotExist("no edge %s" % node_id)
    restaurant_id = node.restaurant_id
    # A pull that arrives late (delayed, replayed) must not move the cursor back.
    if record:
        ahead = peewee.Case(None, [(SyncNode.feed_cursor < after, after)], SyncNode.feed_cursor)
        SyncNode.update(feed_cursor=ahead, last_pull_at=now).where(
            SyncNode.node_id == node_id).execute()
    watermark = _watermark()
    entries = capture.log_entries(_ENTRIES, after=after, node_id=node_id, limit=limit,
                                  branch_id=node.branch_id, restaurant_id=restaurant_id,
                                  watermark=watermark)
    # Less than a full batch: nothing else up to the head is for this edge (its own
    # changes coming back, other branches'), so its cursor moves past them all.
    upto = entries[-1][0] if len(entries) == limit else max(after, _head(watermark))
    held = (watermark is not None and not entries and ChangeLog.select().where(
        _for_edge(after, node_id, node.branch_id, restaurant_id)
        & (ChangeLog.seq >= watermark)).exists())
    return {"after": after, "upto": upto, "held": held,
            "changes": capture.coalesce(entries, for_edge=True) if entries else []}


def snapshot_page(node_id, table, after_id, limit=1000):
    """Rows of ``table`` the edge's branch may hold, by id after ``after_id``."""
    if table not in ownership.OWNERS:
        raise KeyError(table)
    node = SyncNode.get(SyncNode.node_id == node_id)
    where = ownership.visible_sql(table, "t", node.branch_id, node.restaurant_id)
    ids = [r[0] for r in database.execute_sql(
        "SELECT t.id FROM %s t WHERE %s AND t.id > %s ORDER BY t.id LIMIT %d"
        % (table, where, database.param, limit), (after_id,))]
    rows = read_rows(table, ids, for_edge=True)
    return [rows[i] for i in ids if i in rows]


def snapshot_tables(node_id):
    """[{table, rows}] of what a snapshot holds for the edge, parents first."""
    node = SyncNode.get(SyncNode.node_id == node_id)
    restaurant_id = node.restaurant_id
    tables = sorted(ownership.REPLICATED, key=lambda t: RANK.get(t, 999))
    return [{"table": table, "rows": database.execute_sql(
        "SELECT COUNT(*) FROM %s t WHERE %s" % (
            table, ownership.visible_sql(table, "t", node.branch_id, restaurant_id))
    ).fetchone()[0]} for table in tables]
