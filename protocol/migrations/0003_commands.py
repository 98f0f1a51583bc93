"""Commands for a branch's edge and their results (sync/models.py)."""
from peewee import *


def up(migrator, db):
    class Command(Model):
        id = BigIntegerField(primary_key=True)
        branch_id = BigIntegerField(index=True)
        user_id = BigIntegerField()
        kind = CharField()
        payload = TextField()
        success_status = IntegerField(default=200)
        request_key = CharField(null=True, unique=True)
        expires_at = DateTimeField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'sync_commands'

    class CommandResult(Model):
        id = BigIntegerField(primary_key=True)
        branch_id = BigIntegerField(index=True)
        status_code = IntegerField()
        body = TextField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'sync_command_results'

    db.create_tables([Command, CommandResult])
