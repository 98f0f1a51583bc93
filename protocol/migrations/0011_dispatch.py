"""Dispatch and the rider app: a rider's live state at their branch (rider_states,
the branch's), the first characters of a rider's login code (to find the rider by),
and device tokens that belong to a rider instead of a user."""
from peewee import *

from protocol.migrations import existing_table


def up(migrator, db):
    Branch = existing_table(db, 'branches')
    Executive = existing_table(db, 'delivery_executives')
    Order = existing_table(db, 'orders')

    class RiderState(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        delivery_executive = ForeignKeyField(Executive, unique=True, on_delete='CASCADE')
        status = CharField(default='available')
        order = ForeignKeyField(Order, null=True, on_delete='SET NULL')
        lat = BigIntegerField(null=True)
        lng = BigIntegerField(null=True)
        located_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'rider_states'

    db.create_tables([RiderState])
    migrator.migrate(
        migrator.add_column('delivery_executives', 'login_code_hint', CharField(null=True)),
        migrator.add_column('ai_device_tokens', 'delivery_executive_id',
                            ForeignKeyField(Executive, null=True, field=Executive.id,
                                            on_delete='CASCADE')),
        migrator.drop_not_null('ai_device_tokens', 'user_id'),
    )
