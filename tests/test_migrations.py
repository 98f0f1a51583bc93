"""Migrations: from an empty database, from every earlier version with data kept,
and the migrated schema matching the models; each on SQLite and on PostgreSQL
(a new database of the run's server: tests/pgserver.py)."""

import pytest

from protocol import ids, migrations, models
from protocol.database import open_sqlite
from protocol.postgres_pool import open_postgres
from protocol.store import Store
from sync.models import SYNC_MODELS
from sync.startup import SCHEMA


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A new empty database: an opener (call it again to reopen the same one)."""
    if request.param == "sqlite":
        path = str(tmp_path / "test.db")
        return lambda: open_sqlite(path)
    url = request.getfixturevalue("postgres").create()
    return lambda: open_postgres(url)


def open_store(database, node_id=1):
    store = Store(database(), node_id=node_id)
    store.call(store.db.connect, reuse_if_open=True)
    return store


def test_empty_database_migrates_to_the_latest_version(database):
    store = open_store(database)
    try:
        applied = store.call(migrations.migrate, store.db)
        assert applied == migrations.names()
        assert store.call(migrations.migrate, store.db) == []   # idempotent at start-up
    finally:
        store.close()


def test_migrated_schema_matches_the_models(database):
    store = open_store(database)
    try:
        store.call(migrations.migrate, store.db)

        def columns():
            found = {}
            for model in models.ALL_MODELS + SYNC_MODELS:
                table = model._meta.table_name
                found[table] = {c.name for c in store.db.get_columns(table)}
            return found
        found = store.call(columns)
        for model in models.ALL_MODELS + SYNC_MODELS:
            expected = {f.column_name for f in model._meta.sorted_fields}
            assert found[model._meta.table_name] == expected, model.__name__
    finally:
        store.close()


@pytest.mark.parametrize("previous", migrations.names()[:-1] or [None])
def test_upgrade_from_an_earlier_version_keeps_data(database, previous):
    """A database at an earlier version, holding rows, upgrades with its rows intact."""
    store = open_store(database)
    try:
        if previous is None:
            # Only one version exists yet: an empty database is the previous one.
            store.call(migrations.migrate, store.db)
        else:
            store.call(migrations.migrate, store.db, previous)
        values = {"id": 7, "created_at": "2026-01-01 00:00:00",
                  "updated_at": "2026-01-01 00:00:00", "name": "Kept", "hash": "kept",
                  "currency_code": "EUR", "currency_symbol": "E", "currency_decimals": 2,
                  "timezone": "UTC", "tax_mode": "order", "tax_inclusive": 0,
                  "table_lock_timeout_minutes": 10, "default_reservation_status": "Pending",
                  "reservation_sitting_minutes": 120, "customer_order_cutoff_minutes": 5}
        # Flags a later version added (NOT NULL, filled by the model's default): false.
        for column in store.call(store.db.get_columns, "restaurants"):
            if not column.null and column.default is None and column.name not in values:
                values[column.name] = 0
            if column.data_type.lower().startswith("bool"):     # PostgreSQL's own type
                values[column.name] = bool(values[column.name])
        store.call(store.db.execute_sql, "INSERT INTO restaurants (%s) VALUES (%s)" % (
            ", ".join(values), ", ".join([store.db.param] * len(values))),
            list(values.values()))
        store.call(migrations.migrate, store.db)
        store.call(store.resume_ids, SCHEMA)
        row = store.call(lambda: models.Restaurant.get_by_id(7))
        assert (row.name, row.currency_code) == ("Kept", "EUR")
    finally:
        store.close()


def test_ids_resume_after_a_restart_and_stay_below_2_53(database):
    store = Store(database(), node_id=8191).open(SCHEMA)
    try:
        first = store.call(lambda: models.Language.create(code="xx", name="X").id)
    finally:
        store.close()
    store = Store(database(), node_id=8191).open(SCHEMA)
    try:
        second = store.call(lambda: models.Language.create(code="yy", name="Y").id)
    finally:
        store.close()
    if store.db.param == "?":
        assert second == first + 1
    else:                   # the next block of ids, which no other process will use
        assert first < second <= first + 2 * ids.BLOCK_SIZE
    assert first >> 40 == 8191 and second < 2 ** 53


def test_ids_resume_after_the_highest_id_in_sync_tables_too(database):
    """The cloud mints command ids (sync_commands) from the same counter: after a
    restart the next id of any table lies beyond them."""
    from sync.models import Command
    store = Store(database(), node_id=1).open(SCHEMA)
    try:
        command_id = store.call(lambda: Command.create(
            id=(1 << 40) + 5000, branch_id=1, user_id=1, kind="noop", payload="{}",
            expires_at=models.utcnow()).id)
    finally:
        store.close()
    store = Store(database(), node_id=1).open(SCHEMA)
    try:
        next_id = store.call(lambda: models.Language.create(code="zz", name="Z").id)
    finally:
        store.close()
    assert command_id < next_id <= command_id + (1 if store.db.param == "?" else
                                                  2 * ids.BLOCK_SIZE)
