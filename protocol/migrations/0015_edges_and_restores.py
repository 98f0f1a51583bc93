"""Every process of the cloud learns at once of an edge enrolled, retired (its box
replaced) or removed through another: a trigger on sync_nodes announces it on
``branchline_edges`` (PostgreSQL only; protocol/database.py CommitListener, sync/
handlers.py CloudSync). Only a change of who may sync announces: the positions
sync_nodes keeps change with every push and pull and announce nothing.

``reserved_ids``: an id a node must never mint up to (a box restored from a backup
leaves room for the ids the lost box may have used after it: sync/restored.py)."""
from peewee import *

ANNOUNCE_EDGE = """CREATE OR REPLACE FUNCTION bl_announce_edge() RETURNS trigger
LANGUAGE plpgsql AS $announce$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('branchline_edges', OLD.node_id::text);
    ELSE
        PERFORM pg_notify('branchline_edges', NEW.node_id::text);
    END IF;
    RETURN NULL;
END
$announce$"""


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(ANNOUNCE_EDGE)
        db.execute_sql("CREATE TRIGGER bl_announce_edge AFTER INSERT OR DELETE ON sync_nodes "
                       "FOR EACH ROW EXECUTE FUNCTION bl_announce_edge()")
        db.execute_sql("CREATE TRIGGER bl_announce_edge_change AFTER UPDATE ON sync_nodes "
                       "FOR EACH ROW WHEN (OLD.retired IS DISTINCT FROM NEW.retired OR "
                       "OLD.public_key IS DISTINCT FROM NEW.public_key) "
                       "EXECUTE FUNCTION bl_announce_edge()")

    class ReservedId(Model):
        id = BigIntegerField(primary_key=True)
        reason = CharField(default="")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'reserved_ids'
    db.create_tables([ReservedId])
