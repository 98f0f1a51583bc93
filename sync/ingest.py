"""The cloud applying an edge's pushed batch: exactly once, in order, in its lane.

One transaction applies the batch and moves the edge's high-water mark with it.
A batch that follows a position beyond the mark is a gap and is refused (the
edge rewinds), and so is any batch of a box that has been replaced (401);
changes at or below the mark were applied before and are
skipped, so a repeated batch does nothing twice and gets the same answer (with
the refusals up to the mark when batches after it went in too). A
change the edge may not make (a table head office owns, a row of another
branch or restaurant) or that can never be stored (sync/apply.py says which)
is refused for good: it is recorded as a dead letter here, reported to the
edge, and the rest goes on. Any other error fails the whole batch: nothing of
it is kept, the mark does not move, the edge is answered 500 and sends again.

Speed without changing any of that: the upserts of one table in a batch are
first tried together (one statement for 500 rows, one scope query before and
one after, in a savepoint: rows.apply_run); only when one of them would be refused
or fails is the run rolled back and every change of it applied alone, which
refuses exactly the ones at fault (sync/apply.py runs both).
"""

from protocol.database import Prepared, for_update, slot
from protocol.errors import APIError, Conflict

from . import apply, ownership, rows
from .announce import announce
from .apply import Refused
from .models import DeadLetter, SyncNode


def _reason(table, row_id, branch_id, row_restaurant):
    """Why a row the branch may not hold (rows.foreign_rows) is not the edge's to write."""
    if branch_id is not None:
        return "%s %d belongs to another branch" % (table, row_id)
    return "%s %d belongs to another restaurant" % (table, row_id)


def _check_scope(table, row_id, node, restaurant_id):
    foreign = rows.foreign_rows(table, [row_id], node.branch_id, restaurant_id)
    if foreign:
        raise Refused(_reason(table, *foreign[0]))


def _apply_one(change, node, restaurant_id):
    table = change["table"]
    if table not in ownership.OWNERS:
        raise Refused("%s is not replicated" % table)
    if not ownership.edge_may_write(table):
        raise Refused("%s is owned by head office; an edge cannot %s it"
                      % (table, "delete from" if change["op"] == "delete" else "change"))
    if change["op"] != "delete" and change["row"].get("id") != change["id"]:
        raise Refused("the row's id is not the change's (%s)" % change["id"])
    _check_scope(table, change["id"], node, restaurant_id)      # as it was
    apply.apply_change(change)
    _check_scope(table, change["id"], node, restaurant_id)      # as it is now


def _apply_run(run, node, restaurant_id):
    """A run of upserts of one table applied together, when none of them is refused
    (rows.apply_run); False when each must go alone."""
    def all_ours(table, row_ids):
        return not rows.foreign_rows(table, row_ids, node.branch_id, restaurant_id)
    return ownership.edge_may_write(run[0].get("table")) and rows.apply_run(run, all_ours)


def _stored_refusals(node_id, after, upto):
    return [{"seq": d.seq, "table": d.table_name, "id": d.row_id, "reason": d.reason}
            for d in DeadLetter.select().where(
                (DeadLetter.node_id == node_id) & (DeadLetter.seq > after) &
                (DeadLetter.seq <= upto)).order_by(DeadLetter.seq)]


# Run for every batch an edge pushes: built once (Prepared).
_NODE = Prepared(lambda: for_update(SyncNode.select().where(SyncNode.node_id == slot("node_id"))))
_APPLIED = Prepared(lambda: SyncNode.update(
    high_water_mark=slot("mark"), last_push_at=slot("now")).where(
    SyncNode.node_id == slot("node_id")))


def apply_batch(node_id, batch, now):
    """Apply a pushed batch for enrolled edge ``node_id``; answers
    {"high_water_mark", "rejected": [{seq, table, id, reason}]}."""
    # Locked until the batch commits: the same edge's pushes landing on two cloud
    # processes at once are applied one after the other, the second against the
    # mark the first moved.
    node = _NODE.first(SyncNode, node_id=node_id)
    if node is None:
        raise SyncNode.DoesNotExist("no edge %s" % node_id)
    if node.retired:
        # Checked in the transaction: once a replacement has enrolled (and downloads
        # its snapshot), nothing more of the old box's goes in (sync/capture.py).
        raise APIError("Sync request refused: this box was replaced.", status=401)
    after, upto = int(batch["after"]), int(batch["upto"])
    mark = node.high_water_mark
    if after > mark:
        raise Conflict("Changes after %d were never received; send again from %d."
                       % (mark, mark), high_water_mark=mark)
    if upto <= mark:
        # Sent again: it, and maybe batches after it (the edge sends two at once when
        # far behind), were applied. The refusals up to the mark, whose answers the
        # edge may never have got, are answered, so it parks every one, once.
        return {"high_water_mark": mark, "rejected": _stored_refusals(node_id, after, mark)}
    restaurant_id = node.restaurant_id
    # The part applied before is answered as it was then (its answer may be what
    # the edge never got), so the edge parks every refusal, once.
    rejected = _stored_refusals(node_id, after, mark) if after < mark else []
    fresh = [c for c in batch["changes"] if int(c["seq"]) > mark]
    _, refusals = apply.apply_all(
        fresh, node_id, now,
        apply_one=lambda change: _apply_one(change, node, restaurant_id),
        together=lambda run: _apply_run(run, node, restaurant_id),
        applied=lambda run: announce(run, now))    # head office's subscribers see them live
    _APPLIED.execute(mark=upto, now=now, node_id=node_id)
    return {"high_water_mark": upto, "rejected": rejected + refusals}
