"""Hybrid-logical-clock stamps per field of the shared rows (protocol/hlc.py)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("customers", "clocks", TextField(default="{}")),
        migrator.add_column("customer_addresses", "clocks", TextField(default="{}")),
    )
