"""TableTrack compatibility: who cancelled a kitchen item, when and why."""
from peewee import *

from protocol.migrations import existing_table


def up(migrator, db):
    User = existing_table(db, 'users')
    migrator.migrate(
        migrator.add_column('kot_items', 'cancel_reason_text', TextField(null=True)),
        migrator.add_column('kot_items', 'cancelled_by_id',
                            ForeignKeyField(User, null=True, field=User.id,
                                            on_delete='SET NULL')),
        migrator.add_column('kot_items', 'cancelled_at', DateTimeField(null=True)),
    )
