"""Sync's tables (sync/models.py): the change log the triggers fill, whose
sequence never goes back (AUTOINCREMENT / BIGSERIAL), the origin marker, sync
positions, dead letters, enrolled edges and enrollment codes. The triggers
themselves are (re)created at every start by sync/capture.py."""
from peewee import *


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        seq = "seq BIGSERIAL PRIMARY KEY"
    else:
        seq = "seq INTEGER PRIMARY KEY AUTOINCREMENT"
    db.execute_sql(
        "CREATE TABLE change_log (%s, table_name VARCHAR(255) NOT NULL, "
        "row_id BIGINT NOT NULL, op VARCHAR(255) NOT NULL, origin INTEGER NOT NULL DEFAULT 0, "
        "branch_id BIGINT, restaurant_id BIGINT, created_at TIMESTAMP NOT NULL)" % seq)
    db.execute_sql("CREATE INDEX change_log_origin_seq ON change_log (origin, seq)")

    class DeadLetter(Model):
        id = AutoField()
        node_id = IntegerField(default=0)
        seq = BigIntegerField(index=True)
        table_name = CharField()
        row_id = BigIntegerField()
        reason = TextField()
        payload = TextField(null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'dead_letters'
    db.create_tables([DeadLetter])

    class EnrollmentCode(Model):
        id = AutoField()
        code_hash = CharField(unique=True)
        branch_id = BigIntegerField()
        expires_at = DateTimeField()
        used_at = DateTimeField(null=True)
        used_by_node = IntegerField(null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'enrollment_codes'
    db.create_tables([EnrollmentCode])

    class SyncNode(Model):
        node_id = IntegerField(primary_key=True)
        branch_id = BigIntegerField(index=True)
        name = CharField(default='')
        public_key = TextField()
        retired = BooleanField(default=False)
        high_water_mark = BigIntegerField(default=0)
        feed_cursor = BigIntegerField(default=0)
        last_push_at = DateTimeField(null=True)
        last_pull_at = DateTimeField(null=True)
        enrolled_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'sync_nodes'
    db.create_tables([SyncNode])

    class SyncOrigin(Model):
        id = IntegerField(primary_key=True)
        origin = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'sync_origin'
    db.create_tables([SyncOrigin])

    class SyncState(Model):
        key = CharField(primary_key=True)
        value = TextField()
        class Meta:
            database = db
            table_name = 'sync_state'
    db.create_tables([SyncState])
    SyncOrigin.insert(id=1, origin=0).execute()
