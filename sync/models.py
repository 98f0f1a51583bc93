"""Sync's own tables, on every node (created by protocol/migrations/0002_sync.py).

- ``change_log``: one row per row written, by triggers (sync/capture.py); the
  edge pushes its own (origin 0) rows, the cloud feeds them to edges.
- ``sync_origin``: one row saying whose changes are being written right now
  (0: this node's own; otherwise the node they came from), read by the triggers.
- ``sync_state``: the node's sync positions as key/value (edge: acked, cursor...).
- ``dead_letters``: changes the cloud will never accept, parked with the reason.
- ``sync_nodes``: at the cloud, every enrolled edge, its key and high-water mark.
- ``enrollment_codes``: at the cloud, one-time codes (hashed) for enrolling an edge.
"""


import peewee
from peewee import (AutoField, BigIntegerField, BooleanField, CharField, DateTimeField,
                    IntegerField, TextField)

from protocol import models
from protocol.database import Prepared, database, slot




class SyncModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class ChangeLog(SyncModel):
    seq = AutoField()
    table_name = CharField()
    row_id = BigIntegerField()
    op = CharField()                  # upsert | delete
    origin = IntegerField(default=0)  # 0: written here; else the node it came from
    branch_id = BigIntegerField(null=True)       # the row's branch, if it has one
    restaurant_id = BigIntegerField(null=True)   # the row's restaurant, if it has one
    created_at = DateTimeField(default=models.utcnow)

    class Meta:
        table_name = "change_log"


class SyncOrigin(SyncModel):
    id = IntegerField(primary_key=True)
    origin = IntegerField(default=0)

    class Meta:
        table_name = "sync_origin"


class SyncState(SyncModel):
    key = CharField(primary_key=True)
    value = TextField()

    class Meta:
        table_name = "sync_state"


class DeadLetter(SyncModel):
    id = AutoField()
    node_id = IntegerField(default=0)   # at the cloud: the edge whose change it was
    seq = BigIntegerField(index=True)
    table_name = CharField()
    row_id = BigIntegerField()
    reason = TextField()
    payload = TextField(null=True)
    created_at = DateTimeField(default=models.utcnow)

    class Meta:
        table_name = "dead_letters"


class SyncNode(SyncModel):
    node_id = IntegerField(primary_key=True)
    branch_id = BigIntegerField(index=True)
    name = CharField(default="")
    public_key = TextField()
    retired = BooleanField(default=False)
    high_water_mark = BigIntegerField(default=0)   # last change seq applied from this edge
    feed_cursor = BigIntegerField(default=0)       # last cloud change the edge confirmed
    last_push_at = DateTimeField(null=True)
    last_pull_at = DateTimeField(null=True)
    enrolled_at = DateTimeField(default=models.utcnow)

    class Meta:
        table_name = "sync_nodes"

    @property
    def last_seen(self):
        """When the cloud last heard from this edge (push or pull), or None."""
        heard = [t for t in (self.last_push_at, self.last_pull_at) if t]
        return max(heard) if heard else None

    @property
    def restaurant_id(self):
        found = _RESTAURANT.execute(branch_id=self.branch_id).fetchone()
        if found is None:
            raise models.Branch.DoesNotExist("no branch %s" % self.branch_id)
        return found[0]


# Read for every batch an edge pushes and pulls: built once (Prepared).
_RESTAURANT = Prepared(lambda: models.Branch.select(models.Branch.restaurant).where(
    models.Branch.id == slot("branch_id")))


class EnrollmentCode(SyncModel):
    id = AutoField()
    code_hash = CharField(unique=True)
    branch_id = BigIntegerField()
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    used_by_node = IntegerField(null=True)
    created_at = DateTimeField(default=models.utcnow)

    class Meta:
        table_name = "enrollment_codes"





class Command(SyncModel):
    """A write for a branch that its edge must make (head office, customer app).
    Written at the cloud, fed to the branch's edge, executed there once."""
    id = BigIntegerField(primary_key=True)
    branch_id = BigIntegerField(index=True)
    user_id = BigIntegerField()
    kind = CharField()              # the domain operation (protocol/commands.py)
    payload = TextField()           # its arguments, JSON
    success_status = IntegerField(default=200)
    request_key = CharField(null=True, unique=True)   # user + Idempotency-Key
    expires_at = DateTimeField()
    created_at = DateTimeField(default=models.utcnow)

    class Meta:
        table_name = "sync_commands"


class CommandResult(SyncModel):
    """The edge's answer to a command (same id), pushed back to the cloud."""
    id = BigIntegerField(primary_key=True)
    branch_id = BigIntegerField(index=True)
    status_code = IntegerField()
    body = TextField()
    created_at = DateTimeField(default=models.utcnow)

    class Meta:
        table_name = "sync_command_results"


REPLICATED_MODELS = [Command, CommandResult]
SYNC_MODELS = [ChangeLog, SyncOrigin, SyncState, DeadLetter, SyncNode, EnrollmentCode, Command,
               CommandResult]
