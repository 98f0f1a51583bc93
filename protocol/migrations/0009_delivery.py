"""Delivery settings and fee tiers per branch (head office's data: protocol/delivery.py).
Needs only the branches table of 0001."""
from peewee import *

from protocol.migrations import existing_table


def up(migrator, db):
    Branch = existing_table(db, 'branches')

    class DeliverySetting(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, unique=True, on_delete='CASCADE')
        is_enabled = BooleanField(default=False)
        unit = CharField(default='km')
        max_radius = BigIntegerField(null=True)
        fee_type = CharField(default='fixed')
        fixed_fee = BigIntegerField(null=True)
        per_distance_rate = BigIntegerField(null=True)
        free_delivery_over_amount = BigIntegerField(null=True)
        free_delivery_within_radius = BigIntegerField(null=True)
        delivery_schedule_start = CharField(null=True)
        delivery_schedule_end = CharField(null=True)
        prep_time_minutes = IntegerField(default=20)
        additional_eta_buffer_time = IntegerField(null=True)
        avg_delivery_speed_kmh = IntegerField(default=30)
        branch_lat = BigIntegerField(null=True)
        branch_lng = BigIntegerField(null=True)

        class Meta:
            database = db
            table_name = 'delivery_settings'

    class DeliveryFeeTier(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        min_distance = BigIntegerField()
        max_distance = BigIntegerField()
        fee = BigIntegerField(default=0)

        class Meta:
            database = db
            table_name = 'delivery_fee_tiers'

    db.create_tables([DeliverySetting, DeliveryFeeTier])
