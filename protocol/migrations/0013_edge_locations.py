"""Where each edge last said it is on its branch's LAN (protocol/lan.py): addresses,
port, TLS fingerprints. Stays on its node; needs nothing of earlier migrations."""
from peewee import *


def up(migrator, db):
    class EdgeLocation(Model):
        node_id = IntegerField(primary_key=True)
        branch_id = BigIntegerField(index=True)
        name = CharField(default='')
        host = CharField(default='')
        addresses = TextField(default='[]')
        port = IntegerField()
        tls = BooleanField(default=False)
        fingerprint = CharField(null=True)
        spki = CharField(null=True)
        api_path = CharField(default='')
        ws_path = CharField(default='')
        version = CharField(default='')
        reported_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'edge_locations'

    db.create_tables([EdgeLocation])
