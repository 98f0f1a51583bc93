"""Change capture on PostgreSQL, and the watermark its feed reads below.

The same guarantee as on SQLite (sync/capture.py): a trigger on every replicated
table logs each row written to ``change_log`` inside the writing transaction,
with the row's branch and restaurant (sync/ownership.py ``scope_sql``) and its
origin. A plpgsql function per table does it; the origin of what is being
applied is a transaction-local setting (``branchline.origin``), not the shared
``sync_origin`` row SQLite uses, so writers on several connections never wait
for each other over it.

Why not a plain sequence: with several writers, a transaction may take sequence
number 10, another take 11 and commit first; a feed reader that saw 11 and moved
its cursor past it would never see 10. Logical decoding would hand out changes
in commit order, but needs a replication slot per reader, ``wal_level=logical``
and a process draining it. We use a transaction-id watermark instead, with the
cursor edges already keep (one integer):

- a change's ``seq`` is its transaction's id shifted left by 20 bits plus its
  rank within that transaction (``pg_current_xact_id() << 20 | n``), so the log
  is ordered by transaction id, then by the order of the writes;
- a reader reads only below ``pg_snapshot_xmin(pg_current_snapshot()) << 20``:
  every transaction with a smaller id has ended, so nothing can ever be added
  below that line, and every transaction still running or yet to come writes
  above it. A cursor that moved up to the line skips nothing, and reading from
  it repeats nothing.

The price: one long transaction anywhere in the PostgreSQL cluster holds every
feed back until it ends (the long poll looks again every LOOK_AGAIN seconds
while committed changes wait behind the line: sync/handlers.py), and positions
are large numbers, below 2^53 for the first 2^33 transactions of the cluster.
A transaction may log at most 2^20 - 1 changes (it fails past that).
"""

from protocol import ids

from . import ownership

RANK_BITS = 20

_FUNCTION = """CREATE OR REPLACE FUNCTION bl_capture_{table}() RETURNS trigger
LANGUAGE plpgsql AS $capture$
DECLARE
    origin_ integer := coalesce(nullif(current_setting('branchline.origin', true), ''),
                                '0')::integer;
    branch_ bigint;
    restaurant_ bigint;
    row_ bigint;
    op_ text;
    rank_ bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_ := OLD.id; op_ := 'delete';
        branch_ := {old_branch}; restaurant_ := {old_restaurant};
    ELSE
        row_ := NEW.id; op_ := 'upsert';
        branch_ := {new_branch}; restaurant_ := {new_restaurant};
    END IF;
    -- A branch's row applied from its edge: nobody reads it (sync/capture.py).
    IF origin_ > {cloud} AND branch_ IS NOT NULL THEN
        RETURN NULL;
    END IF;
    rank_ := coalesce(nullif(current_setting('branchline.logged', true), ''), '0')::bigint + 1;
    IF rank_ >= {ranks} THEN
        RAISE EXCEPTION 'more than {most} changes in one transaction';
    END IF;
    PERFORM set_config('branchline.logged', rank_::text, true);
    INSERT INTO change_log (seq, table_name, row_id, op, origin, branch_id, restaurant_id,
                            created_at)
    VALUES ((pg_current_xact_id()::text::bigint << {bits}) + rank_, '{table}', row_, op_,
            origin_, branch_, restaurant_, now() AT TIME ZONE 'UTC');
    RETURN NULL;
END
$capture$"""

_TRIGGER = """CREATE TRIGGER bl_capture AFTER INSERT OR UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION bl_capture_{table}()"""


def function_sql(table):
    def scope(row):
        return ownership.scope_sql(table, lambda name: "%s.%s" % (row, name))
    (old_branch, old_restaurant), (new_branch, new_restaurant) = scope("OLD"), scope("NEW")
    return _FUNCTION.format(table=table, old_branch=old_branch, old_restaurant=old_restaurant,
                            new_branch=new_branch, new_restaurant=new_restaurant,
                            cloud=ids.CLOUD_NODE_ID, ranks=1 << RANK_BITS, most=(1 << RANK_BITS) - 1,
                            bits=RANK_BITS)


def install_triggers(db):
    """(Re)create the capture functions and triggers, in one transaction."""
    with db.atomic():
        for table in ownership.REPLICATED:
            db.execute_sql(function_sql(table))
            db.execute_sql("DROP TRIGGER IF EXISTS bl_capture ON %s" % table)
            db.execute_sql(_TRIGGER.format(table=table))


def set_origin(db, node_id):
    """Log what this transaction writes from now on as coming from ``node_id``."""
    db.execute_sql("SELECT set_config('branchline.origin', %s, true)", (str(node_id),))


def watermark(db):
    """The position below which the change log is final: every transaction that
    could still add to it logs above (read in a worker thread)."""
    return db.execute_sql("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint << %s",
                          (RANK_BITS,)).fetchone()[0]
