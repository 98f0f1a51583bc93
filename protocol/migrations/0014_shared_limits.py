"""What the cloud's processes share over one database: the sequence that hands
out blocks of the cloud's ids and a trigger announcing every token revoked to
every process (PostgreSQL only: protocol/ids.py, protocol/database.py
CommitListener), and the attempts a shared limit counts (``rate_hits``:
protocol/ratelimit.py)."""
from peewee import *

ANNOUNCE_REVOCATION = """CREATE OR REPLACE FUNCTION bl_announce_revocation() RETURNS trigger
LANGUAGE plpgsql AS $announce$
BEGIN
    PERFORM pg_notify('branchline_revocations', NEW.jti);
    RETURN NULL;
END
$announce$"""


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("CREATE SEQUENCE IF NOT EXISTS id_blocks MINVALUE 0 START 0")
        db.execute_sql(ANNOUNCE_REVOCATION)
        db.execute_sql("CREATE TRIGGER bl_announce_revocation AFTER INSERT ON revoked_tokens "
                       "FOR EACH ROW EXECUTE FUNCTION bl_announce_revocation()")

    class RateHit(Model):
        id = BigAutoField()
        key = CharField()
        at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = 'rate_hits'
            indexes = ((('key', 'at'), False),)
    db.create_tables([RateHit])
