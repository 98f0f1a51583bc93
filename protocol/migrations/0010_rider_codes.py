"""A delivery executive's login code, stored hashed (protocol/riders.py)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('delivery_executives', 'login_code_hash', CharField(null=True)),
    )
