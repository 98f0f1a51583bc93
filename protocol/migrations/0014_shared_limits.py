"""What the cloud's processes share over one database: the sequence that hands
out blocks of the cloud's ids (PostgreSQL only: protocol/ids.py), and the
attempts a shared limit counts (``rate_hits``: protocol/ratelimit.py)."""
from peewee import *


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("CREATE SEQUENCE IF NOT EXISTS id_blocks MINVALUE 0 START 0")

    class RateHit(Model):
        id = BigAutoField()
        key = CharField()
        at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = 'rate_hits'
            indexes = ((('key', 'at'), False),)
    db.create_tables([RateHit])
