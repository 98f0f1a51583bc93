"""Versioned schema migrations, applied in order at every start-up.

Each ``NNNN_name.py`` here defines ``up(migrator, db)`` with frozen copies of
the tables it creates or alters (never imports of protocol.models, which move
on). peewee's runner records what ran in ``schema_migration``. To add one:
change protocol/models.py, then
``python -m playhouse.migrations sqlite:///tmp/x.db generate NAME
'protocol.models:ALL_MODELS' -d protocol/migrations`` against a database at
the previous version, and read what it wrote.
"""

import contextlib
import os

import peewee
from playhouse.migrations import Migration, Runner

DIRECTORY = os.path.dirname(os.path.abspath(__file__))


def runner(db):
    return Runner(db, DIRECTORY)


def migrate(db, target=None):
    """Apply pending migrations (up to ``target``); returns their names."""
    return runner(db).up(target)


def names():
    """Every migration shipped, oldest first."""
    return [m.name for m in Migration.load_directory(DIRECTORY)]


def existing_table(db, name):
    """A stand-in model for a table an earlier migration made, for a new table's
    foreign keys to point at (only its id is needed)."""
    class Existing(peewee.Model):
        id = peewee.BigIntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = name
    return Existing


# Any constant of ours: the key of the PostgreSQL advisory lock held while migrating.
_LOCK_KEY = 0x6272616E63686C


@contextlib.contextmanager
def exclusive(db):
    """Held while one process migrates and installs its triggers: on PostgreSQL
    an advisory lock, so cloud processes starting together take turns (the
    second finds nothing left to do). SQLite needs none: an edge, and a cloud on
    SQLite, is one process."""
    if not isinstance(db, peewee.PostgresqlDatabase):
        yield
        return
    db.execute_sql("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        yield
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
