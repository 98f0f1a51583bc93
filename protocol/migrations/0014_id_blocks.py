"""PostgreSQL: the sequence that hands out blocks of the cloud's ids to its
processes (protocol/ids.py); SQLite needs none (one process)."""
from peewee import *


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("CREATE SEQUENCE IF NOT EXISTS id_blocks MINVALUE 0 START 0")
