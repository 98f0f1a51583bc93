"""MultiPOS devices registered with a branch (protocol/multipos.py)."""
from peewee import *

from protocol.migrations import existing_table


def up(migrator, db):
    Branch, User = existing_table(db, 'branches'), existing_table(db, 'users')

    class PosMachine(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        device_id = CharField(max_length=255)
        alias = CharField(max_length=255)
        platform = CharField(max_length=50, null=True)
        public_id = CharField(unique=True)
        token_hash = CharField()
        status = CharField(default='active')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        approved_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        approved_at = DateTimeField(null=True)
        last_seen_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'pos_machines'
            indexes = ((('branch', 'device_id'), True),)

    db.create_tables([PosMachine])
