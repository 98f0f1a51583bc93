"""TableTrack compatibility: who cancelled a kitchen item, when and why; lines taken
without a required choice, and the restaurant setting that refuses them; the
restaurant setting that has new KOTs wait for the kitchen's confirmation."""
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
        migrator.add_column('order_items', 'missing_choices', TextField(null=True)),
        migrator.add_column('restaurants', 'require_item_choices', BooleanField(default=False)),
        migrator.add_column('restaurants', 'kot_requires_confirmation',
                            BooleanField(default=False)),
    )
