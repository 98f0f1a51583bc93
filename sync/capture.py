"""Capture: every write to a replicated table is logged, by the database itself.

Triggers on each replicated table append (table, row id, upsert|delete, origin,
the row's branch and restaurant) to ``change_log`` inside the writing
transaction, so no domain operation can forget to, whatever way it writes
(model saves, bulk updates, raw SQL). ``origin`` comes from ``sync_origin``:
0 for this node's own writes; while changes from another node are applied,
``applying_from(node_id)`` sets it, so they are not sent back where they came
from. Changes carry the row's current state, encoded with the models' own
fields (``encode_row`` / ``decode_row``), and are applied as upserts by id,
which makes applying the same change twice harmless.
"""

import contextlib
import datetime
from decimal import Decimal

import peewee

from protocol import models
from protocol.db import database
from protocol.money import FixedPointField

from . import ownership
from .models import REPLICATED_MODELS, SyncOrigin

_ALL = models.ALL_MODELS + REPLICATED_MODELS
MODELS = {m._meta.table_name: m for m in _ALL}
RANK = {m._meta.table_name: n for n, m in enumerate(_ALL)}   # parents first

_TRIGGER = """CREATE TRIGGER bl_{table}_{event} AFTER {verb} ON {table} BEGIN
INSERT INTO change_log (table_name, row_id, op, origin, branch_id, restaurant_id, created_at)
VALUES ('{table}', {row}.id, '{op}', (SELECT origin FROM sync_origin WHERE id = 1),
        {branch}, {restaurant}, strftime('%Y-%m-%d %H:%M:%f', 'now'));
END"""


def trigger_sql(table):
    statements = []
    for event, verb, row, op in (("ins", "INSERT", "NEW", "upsert"),
                                 ("upd", "UPDATE", "NEW", "upsert"),
                                 ("del", "DELETE", "OLD", "delete")):
        branch, restaurant = ownership.scope_sql(table, lambda name, row=row: "%s.%s" % (row, name))
        statements.append(("bl_%s_%s" % (table, event), _TRIGGER.format(
            table=table, event=event, verb=verb, row=row, op=op, branch=branch,
            restaurant=restaurant)))
    return statements


def install_triggers(db):
    """(Re)create the capture triggers; run at every start, after migrations."""
    if not isinstance(db, peewee.SqliteDatabase):
        raise NotImplementedError("change capture is implemented for SQLite")
    with db.atomic():
        for table in ownership.REPLICATED:
            for name, sql in trigger_sql(table):
                db.execute_sql("DROP TRIGGER IF EXISTS %s" % name)
                db.execute_sql(sql)


@contextlib.contextmanager
def applying_from(node_id):
    """Write what follows as changes that came from ``node_id``."""
    SyncOrigin.update(origin=node_id).where(SyncOrigin.id == 1).execute()
    try:
        yield
    finally:
        SyncOrigin.update(origin=0).where(SyncOrigin.id == 1).execute()


# --- Rows on the wire ---------------------------------------------------------------

def _jsonable(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_row(row, *, for_edge=False):
    table = row._meta.table_name
    hidden = ownership.SECRET_COLUMNS.get(table, set()) if for_edge else set()
    return {f.column_name: _jsonable(getattr(row, f.name) if not isinstance(
        f, peewee.ForeignKeyField) else row.__data__.get(f.name))
        for f in row._meta.sorted_fields if f.column_name not in hidden}


def _decode(field, value):
    if value is None:
        return None
    if isinstance(field, peewee.DateTimeField):
        return datetime.datetime.fromisoformat(value)
    if isinstance(field, peewee.DateField):
        return datetime.date.fromisoformat(value)
    if isinstance(field, FixedPointField):
        return Decimal(str(value))
    if isinstance(field, peewee.BooleanField):
        return bool(value)
    return value


def decode_row(model, data):
    """Field values of ``model`` from an encoded row (unknown columns ignored)."""
    by_column = {f.column_name: f for f in model._meta.sorted_fields}
    return {by_column[c].name: _decode(by_column[c], v) for c, v in data.items()
            if c in by_column}


def read_rows(table, row_ids, *, for_edge=False):
    """{id: encoded row} for the rows that still exist."""
    model = MODELS[table]
    found = {}
    ids = list(row_ids)
    for start in range(0, len(ids), 500):
        for row in model.select().where(model.id.in_(ids[start:start + 500])):
            found[row.id] = encode_row(row, for_edge=for_edge)
    return found


def upsert(table, data):
    model = MODELS[table]
    values = decode_row(model, data)
    if "id" not in values:
        raise ValueError("a %s row without an id" % table)
    update = {model._meta.fields[name]: value for name, value in values.items() if name != "id"}
    model.insert(**values).on_conflict(conflict_target=[model.id], update=update).execute()


def delete(table, row_id):
    model = MODELS[table]
    model.delete().where(model.id == row_id).execute()


def apply_change(change):
    if change["op"] == "delete":
        delete(change["table"], change["id"])
    else:
        upsert(change["table"], change["row"])


def in_apply_order(changes):
    """Upserts parents first, then deletes children first."""
    upserts = sorted((c for c in changes if c["op"] != "delete"),
                     key=lambda c: (RANK.get(c["table"], 999), c["seq"]))
    deletes = sorted((c for c in changes if c["op"] == "delete"),
                     key=lambda c: (-RANK.get(c["table"], 999), c["seq"]))
    return upserts + deletes


def coalesce(log_rows, *, for_edge=False):
    """Changes for change-log rows: the latest state of each row they touched
    (a row changed five times is sent once), tagged with its last seq."""
    latest = {}
    for entry in log_rows:
        latest[(entry.table_name, entry.row_id)] = entry
    by_table = {}
    for (table, row_id), entry in latest.items():
        if entry.op == "upsert":
            by_table.setdefault(table, []).append(row_id)
    rows = {table: read_rows(table, ids, for_edge=for_edge) for table, ids in by_table.items()}
    changes = []
    for (table, row_id), entry in sorted(latest.items(), key=lambda kv: kv[1].seq):
        row = rows.get(table, {}).get(row_id)
        if row is None:
            changes.append({"seq": entry.seq, "table": table, "id": row_id, "op": "delete"})
        else:
            changes.append({"seq": entry.seq, "table": table, "id": row_id, "op": "upsert",
                            "row": row})
    return changes


def row_scope(table, row_id):
    """(branch_id, restaurant_id) of a stored row, or None when it does not exist."""
    branch, restaurant = ownership.scope_sql(table, lambda name: "t.%s" % name)
    cursor = database.execute_sql(
        "SELECT %s, %s FROM %s t WHERE t.id = %s" % (branch, restaurant, table, database.param),
        (row_id,))
    return cursor.fetchone()
