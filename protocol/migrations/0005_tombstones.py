"""Tombstones for the shared rows: a deleted customer or address keeps its row,
marked deleted_at (protocol/models.py SharedModel)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("customers", "deleted_at", DateTimeField(null=True)),
        migrator.add_column("customer_addresses", "deleted_at", DateTimeField(null=True)),
    )
