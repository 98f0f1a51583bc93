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

from protocol.database import database, is_postgres

from . import capture, ownership, postgres
from .models import ChangeLog, SyncNode
from .rows import RANK, read_rows

BATCH_SIZE = 500


def _final():
    """A condition on the change log selecting the entries no transaction can
    still add to or take from; None on SQLite, where all are (one writer)."""
    db = database.obj
    if is_postgres(db):
        return ChangeLog.seq < postgres.watermark(db)
    return None


def _where(query, *conditions):
    conditions = [c for c in conditions if c is not None]
    return query.where(*conditions) if conditions else query


def _head(final):
    return (_where(ChangeLog.select(ChangeLog.seq), final)
            .order_by(ChangeLog.seq.desc()).limit(1).scalar() or 0)


def head():
    """The newest change sequence number at the cloud that a feed may pass."""
    return _head(_final())


def lag(cursor, head):
    """Changes logged after ``cursor`` up to ``head``: what an edge has yet to confirm."""
    return ChangeLog.select().where((ChangeLog.seq > cursor) & (ChangeLog.seq <= head)).count()


def changes_for(node_id, after, now, limit=BATCH_SIZE, record=True):
    """{"after", "upto", "changes", "held"} for edge ``node_id`` after its cursor
    (``held``: changes for it have committed above the watermark, and will be
    readable once the transactions below them end); also records that the edge
    has everything up to ``after`` and asked now (``record``: a long poll looking
    again after a commit has nothing new to record)."""
    node = SyncNode.get(SyncNode.node_id == node_id)
    restaurant_id = node.restaurant_id
    # A pull that arrives late (delayed, replayed) must not move the cursor back.
    if record:
        ahead = peewee.Case(None, [(SyncNode.feed_cursor < after, after)], SyncNode.feed_cursor)
        SyncNode.update(feed_cursor=ahead, last_pull_at=now).where(
            SyncNode.node_id == node_id).execute()
    visible = ((ChangeLog.branch_id == node.branch_id) |
               (ChangeLog.branch_id.is_null() &
                ((ChangeLog.restaurant_id == restaurant_id) | ChangeLog.restaurant_id.is_null())))
    final = _final()
    for_edge = (ChangeLog.seq > after) & (ChangeLog.origin != node_id) & visible
    entries = capture.log_entries(_where(ChangeLog.select(), for_edge, final)
                                  .order_by(ChangeLog.seq).limit(limit))
    # Less than a full batch: nothing else up to the head is for this edge (its own
    # changes coming back, other branches'), so its cursor moves past them all.
    upto = entries[-1][0] if len(entries) == limit else max(after, _head(final))
    held = (final is not None and not entries and
            ChangeLog.select().where(for_edge & ~final).exists())
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
