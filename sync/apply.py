"""Applying another node's changes: the one loop both directions share.

The cloud applies an edge's pushed batch (sync/ingest.py) and an edge applies
the batch it pulled from the cloud (sync/inbox.py) the same way, ``apply_all``:
in apply order (deletes children first, then upserts parents first), each run
of upserts of one table first tried together (sync/rows.py ``apply_run``), and
otherwise each change alone in its own savepoint. What the two sides differ in
is passed in: the cloud checks every change against the edge's lane and
announces what it applied to head office's screens; the edge leaves its
unacknowledged rows alone before calling.

Refusals are decisions, bugs are bugs. A change is refused for good, and parked
as a dead letter with its reason, only when it raises ``Refused``: the
ownership and scope checks raise it on purpose, and ``apply_change`` turns into
it the faults that belong to the row and would meet it however often it came
again:

- a row that cannot be read (rows.Malformed: a value of the wrong kind, no id);
- a table this node does not hold;
- a delete of a shared row (sync/ownership.py ``may_delete``: a customer is
  deleted as a tombstone, an upsert; a delete sent by a node running older code
  would take the orders of other branches with it);
- a shared row stamped too far in the future (protocol.hlc.ClockDrift);
- a row the database's constraints refuse (peewee.IntegrityError: a key to a row
  that does not exist, a unique clash, a missing required column;
  peewee.DataError: a value the column cannot hold).

Anything else (TypeError, KeyError, AttributeError, OperationalError...) is a
fault of this node, not of the change: it is not caught here, so the caller's
transaction rolls back, nothing of the batch is kept, its position does not
move, and the batch is tried again once the fault is mended.
"""

import peewee

from protocol import hlc, wire
from protocol.database import database
from protocol.store import current_store

from . import capture, merge, ownership, rows
from .models import DeadLetter


class Refused(Exception):
    """A change that can never be applied here: parked, never retried."""


def apply_change(change):
    """Apply one change: delete, merge a shared row field by field, or upsert;
    Refused when the change itself is at fault."""
    table = change["table"]
    if table not in rows.MODELS:
        raise Refused("%s is not a table here" % table)
    if change["op"] == "delete" and not ownership.may_delete(table):
        raise Refused("%s %s: shared rows are never deleted, only marked deleted_at"
                      % (table, change["id"]))
    try:
        if change["op"] == "delete":
            rows.delete(table, change["id"])
        elif merge.has_clocks(table):
            merge.merge_upsert(table, change["row"])
        else:
            rows.upsert(table, change["row"])
    except (rows.Malformed, hlc.ClockDrift, peewee.IntegrityError, peewee.DataError) as exc:
        raise Refused("%s %s: %s" % (table, change["id"], exc)) from exc


def remember_revocations(changes):
    """Tokens revoked on another node stop working here at once, and the subscriptions
    they authorised end (Store.revoke)."""
    jtis = [c["row"]["jti"] for c in changes
            if c.get("table") == "revoked_tokens" and c.get("op") == "upsert"
            and isinstance(c.get("row"), dict) and c["row"].get("jti")]
    current_store().revoke(jtis)


def in_apply_order(changes):
    """Deletes children first, then upserts parents first. Deletes go first so a
    row that replaced a deleted one under a unique key (a table's lock, freed
    and taken again) does not meet its predecessor."""
    upserts = sorted((c for c in changes if c["op"] != "delete"),
                     key=lambda c: (rows.RANK.get(c["table"], 999), c["seq"]))
    deletes = sorted((c for c in changes if c["op"] == "delete"),
                     key=lambda c: (-rows.RANK.get(c["table"], 999), c["seq"]))
    return deletes + upserts


def runs(changes):
    """Changes (in apply order) as runs of consecutive ones with the same table and op."""
    run = []
    for change in changes:
        if run and (change.get("table"), change.get("op")) != (run[0].get("table"),
                                                               run[0].get("op")):
            yield run
            run = []
        run.append(change)
    if run:
        yield run


def park(node_id, change, reason, now):
    """Record a change refused for good as a dead letter (``node_id``: the node it
    came from, 0 for this node's own); answers the refusal as the push reports it."""
    DeadLetter.create(node_id=node_id, seq=change["seq"], table_name=str(change.get("table")),
                      row_id=int(change.get("id") or 0), reason=reason,
                      payload=wire.dumps(change), created_at=now)
    return {"seq": change["seq"], "table": change.get("table"), "id": change.get("id"),
            "reason": reason}


def apply_all(changes, origin, now, *, apply_one=apply_change, together=rows.apply_run,
              applied=lambda changes: None):
    """Apply changes that came from node ``origin`` (written as its, so they are not
    sent back): each run of one table's upserts through ``together(run)`` (False:
    each change alone instead), each other change through ``apply_one(change)`` in
    its own savepoint; ``applied(changes)`` is told of what went in, inside the
    transaction. A change refused (``Refused``) is parked; any other error is
    raised. Answers (how many were applied, [refusals as ``park`` answers them])."""
    count, refusals = 0, []
    with capture.applying_from(origin):
        for run in runs(in_apply_order(changes)):
            if together(run):
                applied(run)
                count += len(run)
                continue
            for change in run:
                try:
                    with database.atomic():
                        apply_one(change)
                        applied([change])
                    count += 1
                except Refused as exc:
                    refusals.append(park(origin, change, str(exc) or "refused", now))
    remember_revocations(changes)
    return count, refusals
