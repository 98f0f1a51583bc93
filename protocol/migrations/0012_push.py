"""Push delivery (protocol/push.py, cloud/push_queue.py): the cloud's VAPID public key fed
to edges, the delivery log per notification, and the cloud's persistent send queue (the
notifications still to plan, and one row per notification and device)."""
from peewee import *

from protocol.migrations import existing_table


def up(migrator, db):
    Branch = existing_table(db, 'branches')

    class PushKey(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        vapid_public_key = TextField()

        class Meta:
            database = db
            table_name = 'push_keys'

    class PushLog(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        notification_id = BigIntegerField(index=True)
        branch = ForeignKeyField(Branch, null=True, on_delete='SET NULL')
        user_id = BigIntegerField()
        device_token_id = BigIntegerField(null=True)
        platform = CharField(max_length=20, null=True)
        outcome = CharField(max_length=20)
        status_code = IntegerField(null=True)
        detail = TextField(default='')

        class Meta:
            database = db
            table_name = 'push_log'

    class PushNotice(Model):
        notification_id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'push_notices'

    class PushDelivery(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        notification_id = BigIntegerField()
        device_token_id = BigIntegerField()
        user_id = BigIntegerField()
        branch_id = BigIntegerField(null=True)
        platform = CharField(max_length=20)
        token = TextField()
        status = CharField(max_length=20, default='pending')
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField(null=True)
        expires_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'push_deliveries'
            indexes = ((('notification_id', 'device_token_id'), True),
                       (('status', 'next_attempt_at'), False))

    db.create_tables([PushKey, PushLog, PushNotice, PushDelivery])
