"""Rows on the wire: the codec, bulk reads and writes, and a row's scope.

A change carries the row's current state, encoded with the models' own fields
(``encode_row`` / ``decode_row``; ``read_rows`` encodes many stored rows without
building model instances), and is applied as an upsert by id (``upsert``, or
``apply_run`` for many rows of one table at once), which makes applying the same
change twice harmless. ``foreign_rows`` picks out the stored rows a branch may
not hold (sync/ownership.py). Everything else in sync/ uses this module; it
uses only the models and ownership.

A row whose values cannot be read (a date that is not a date, a number that is
not a number, no id) raises ``Malformed``: a fault of the row, not of the code,
which sync/apply.py turns into a refusal.
"""

import datetime
import functools
import operator
import types
from decimal import Decimal

import peewee

from protocol import models
from protocol.database import database, insert_values, python_value, stored_datetime
from protocol.money import FixedPointField

from . import ownership
from .models import REPLICATED_MODELS

_ALL = models.ALL_MODELS + REPLICATED_MODELS
MODELS = {m._meta.table_name: m for m in _ALL}
RANK = {m._meta.table_name: n for n, m in enumerate(_ALL)}   # parents first


class Malformed(ValueError):
    """An encoded row that cannot be read as a row of its table."""


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


def _storable(field, stored):
    """A field's database value, refused when an integer column would get anything
    but an integer (peewee passes on what int() cannot read)."""
    if stored is not None and _plain_type(field) is int and not isinstance(stored, int):
        raise ValueError("not an integer")
    return stored


def _read(field, value):
    """The field's value from its encoded form, checked to be storable."""
    try:
        decoded = _decode(field, value)
        _storable(field, field.db_value(decoded))
    except (ValueError, TypeError, ArithmeticError) as exc:   # decimal.InvalidOperation too
        raise Malformed("%s: cannot read %.40r (%s)" % (field.column_name, value, exc)) from exc
    return decoded


def decode_row(model, data):
    """Field values of ``model`` from an encoded row (unknown columns ignored);
    Malformed when a value cannot be read."""
    if not isinstance(data, dict):
        raise Malformed("a %s row that is not an object" % model._meta.table_name)
    by_column = {f.column_name: f for f in model._meta.sorted_fields}
    return {by_column[c].name: _read(by_column[c], v) for c, v in data.items()
            if c in by_column}


def _column_list(model):
    return ", ".join('"%s"' % f.column_name for f in model._meta.sorted_fields)


def _in_chunks(row_ids, size=500):
    ids = list(row_ids)
    for start in range(0, len(ids), size):
        chunk = ids[start:start + size]
        yield chunk, ", ".join([database.param] * len(chunk))


class _Converted:
    """The "type" of a column whose values are always converted (see _plain_type)."""


def _plain_type(field):
    """int or str when the field stores a value of that type as it is (peewee's
    plain integer and text fields, and keys to them), else _Converted."""
    if isinstance(field, peewee.ForeignKeyField):
        field = field.rel_field
    if type(field).db_value is not peewee.Field.db_value:
        return _Converted
    return {peewee.IntegerField.adapt: int, peewee.CharField.adapt: str}.get(
        type(field).adapt, _Converted)


class _Reader:
    """How stored rows of one model become encoded rows (as ``encode_row`` makes
    them), worked out once per model: a plain int or text value that already has
    its type is used as it is, a datetime as peewee stores it gets the "T" of its
    ISO form, an amount is formatted from its integer (the frequent ones kept), and
    every other value goes through the field's ``python_value`` and ``_jsonable``."""

    def __init__(self, model, hidden):
        fields = [f for f in model._meta.sorted_fields if f.column_name not in hidden]
        self.columns = [f.column_name for f in fields]
        self.sql = 'SELECT %s FROM "%s" WHERE id IN (%%s)' % (
            ", ".join('"%s"' % c for c in self.columns), model._meta.table_name)
        self.key = fields.index(model._meta.primary_key)
        self.plain = [_plain_type(f) for f in fields]
        self.encode = [self._encoder(f) for f in fields]

    @staticmethod
    def _encoder(field):
        if isinstance(field, peewee.DateTimeField):
            return functools.partial(_Reader._datetime, field)
        if type(field).python_value is FixedPointField.python_value and field.scale <= 6:
            # (a Decimal with more places than 6 may print as 1E-7: left to it)
            return functools.partial(_Reader._fixed_point, field, {})
        return lambda value: _jsonable(field.python_value(value))

    @staticmethod
    def _datetime(field, value):
        if stored_datetime(value):
            return value[:10] + "T" + value[11:]
        return _jsonable(field.python_value(value))

    @staticmethod
    def _fixed_point(field, seen, value):
        """str(field.python_value(value)) for a stored whole number, without a Decimal;
        the amounts met most (prices, taxes, zero) are kept in ``seen``."""
        if type(value) is not int:
            return _jsonable(field.python_value(value))
        text = seen.get(value)
        if text is not None:
            return text
        if not field.scale:
            text = str(value)
        else:
            whole, part = divmod(abs(value), 10 ** field.scale)
            text = "%s%d.%0*d" % ("-" if value < 0 else "", whole, field.scale, part)
        if len(seen) < 4096:
            seen[value] = text
        return text

    def rows(self, row_ids):
        """{id: encoded row} for those of the rows that are stored."""
        found = {}
        for chunk, marks in _in_chunks(row_ids):
            for values in database.execute_sql(self.sql % marks, chunk):
                found[values[self.key]] = {
                    column: value if value is None or type(value) is plain else encode(value)
                    for column, value, plain, encode in zip(self.columns, values, self.plain,
                                                            self.encode)}
        return found


_READERS = {}


def read_rows(table, row_ids, *, for_edge=False):
    """{id: encoded row} for the rows that still exist: one query per 500 ids,
    without building model instances."""
    reader = _READERS.get((table, for_edge))
    if reader is None:
        hidden = ownership.SECRET_COLUMNS.get(table, set()) if for_edge else set()
        reader = _READERS[(table, for_edge)] = _Reader(MODELS[table], hidden)
    return reader.rows(row_ids)


def read_fields(table, columns, row_ids):
    """{id: namespace of ``columns`` (column names: ``branch_id`` for a key) as their
    Python values} of the stored rows, one query per 500 ids: what a reader of a few
    columns of many rows needs, without building model instances."""
    by_column = {f.column_name: f for f in MODELS[table]._meta.sorted_fields}
    columns = ["id"] + [c for c in columns if c != "id"]
    # (a plain int or text value that already has its type is used as it is)
    read = [(_plain_type(by_column[c]), python_value(by_column[c])) for c in columns]
    sql = 'SELECT %s FROM "%s" WHERE id IN (%%s)' % (
        ", ".join('"%s"' % c for c in columns), table)
    found = {}
    for chunk, marks in _in_chunks(row_ids):
        for values in database.execute_sql(sql % marks, chunk):
            found[values[0]] = types.SimpleNamespace(**{
                c: v if v is None or type(v) is plain else r(v)
                for c, v, (plain, r) in zip(columns, values, read)})
    return found


def upsert(table, data):
    model = MODELS[table]
    values = decode_row(model, data)
    if "id" not in values:
        raise Malformed("a %s row without an id" % table)
    update = {model._meta.fields[name]: value for name, value in values.items() if name != "id"}
    model.insert(**values).on_conflict(conflict_target=[model.id], update=update).execute()


def delete(table, row_id):
    model = MODELS[table]
    model.delete().where(model.id == row_id).execute()


class _NotTogether(Exception):
    pass


class _Writer:
    """How encoded rows of one model become the values of its upsert statement,
    worked out once per model: ``values(row)`` is what ``upsert`` would store
    (a value that already has the type a plain int or text column stores is
    used as it is; every other one goes through ``_decode`` and the field's
    ``db_value``); a missing column raises KeyError."""

    def __init__(self, model):
        fields = model._meta.sorted_fields
        columns = [f.column_name for f in fields]
        self.get = operator.itemgetter(*columns)
        self.head = 'INSERT INTO "%s" (%s)' % (model._meta.table_name, _column_list(model))
        self.tail = 'ON CONFLICT ("id") DO UPDATE SET %s' % ", ".join(
            '"%s" = excluded."%s"' % (c, c) for c in columns if c != "id")
        self.spec = [(n, _plain_type(f), self._converter(f)) for n, f in enumerate(fields)]

    @staticmethod
    def _converter(field):
        if type(field) is peewee.DateTimeField:     # the text sqlite3 stores for a datetime
            return _Writer._datetime
        if isinstance(field, FixedPointField):
            return functools.partial(_Writer._fixed_point, field, {})
        return lambda value: _storable(field, field.db_value(_decode(field, value)))

    @staticmethod
    def _datetime(value):
        """str() of the datetime an encoded row holds, as sqlite3 stores it: its
        ``isoformat(" ")``, which for one written as ``encode_row`` writes a datetime
        with microseconds ("2026-12-08T04:11:45.387137") is the text itself with a
        space for the "T"."""
        stamp = datetime.datetime.fromisoformat(value)
        if (len(value) == 26 and value[10] == "T" and value[19] == "." and value[4] == "-"
                and value[7] == "-" and value[13] == ":" and value[16] == ":"
                and stamp.microsecond and stamp.tzinfo is None):
            return value[:10] + " " + value[11:]
        return stamp.isoformat(" ")

    @staticmethod
    def _fixed_point(field, seen, value):
        """field.db_value(Decimal(str(value))) without a Decimal for an amount written
        as plain ASCII digits with at most the field's places ("18.50"), as rows
        are encoded; the amounts met most (prices, taxes, zero) are kept in ``seen``."""
        if type(value) is not str:
            return field.db_value(Decimal(str(value)))
        stored = seen.get(value)
        if stored is not None:
            return stored
        whole, _, part = value.partition(".")
        digits = whole[1:] if whole[:1] == "-" else whole
        if (len(part) <= field.scale and value.isascii() and digits.isdigit()
                and (part.isdigit() or not part)):
            stored = int(whole + part.ljust(field.scale, "0"))
        else:
            stored = field.db_value(Decimal(str(value)))
        if len(seen) < 4096:
            seen[value] = stored
        return stored

    def values(self, row):
        values = list(self.get(row))
        for n, plain, convert in self.spec:
            value = values[n]
            if value is not None and type(value) is not plain:
                values[n] = convert(value)
        return values


_WRITERS = {}


def apply_run(run, allowed=lambda table, row_ids: True):
    """Apply a run of upserts of one table (from ``runs``) together: one statement
    for every 500 of them (database.insert_values), in a savepoint, with
    ``allowed(table, ids)`` asked of the rows as they were and as they are then. Answers False, having written
    nothing, when the run cannot go together (deletes, a single change, an id
    twice, a row whose id is not the change's or that lacks a column, shared rows
    that merge field by field, not allowed, any error): the caller then applies
    each change by itself, which refuses exactly the ones at fault. Together or
    alone, the outcome is the same: a row's scope depends on itself and its
    parents, never on the other rows of its own table."""
    table = run[0].get("table")
    model = MODELS.get(table)
    row_ids = [c.get("id") for c in run]
    if (model is None or run[0].get("op") != "upsert" or len(run) < 2
            or len(set(row_ids)) != len(run) or "clocks" in model._meta.fields):
        return False
    writer = _WRITERS.get(table) or _WRITERS.setdefault(table, _Writer(model))
    try:
        params = []
        for change in run:
            row = change["row"]
            if type(change["id"]) is not int or row["id"] != change["id"]:
                return False
            params.append(writer.values(row))
        with database.atomic():
            if not allowed(table, row_ids):
                raise _NotTogether()
            insert_values(writer.head, writer.tail, params)
            if not allowed(table, row_ids):
                raise _NotTogether()
    except Exception:      # noqa: BLE001 - each change alone meets the same fault
        return False
    return True


def foreign_rows(table, row_ids, branch_id, restaurant_id):
    """[(id, branch_id, restaurant_id)] of those of the stored rows that the branch
    may not hold (sync/ownership.py ``visible_sql``, the rows its feed would not
    send it): the database picks them out, so rows of the branch, nearly all of
    them, are not read at all."""
    branch, restaurant = ownership.scope_sql(table, lambda name: "t.%s" % name)
    visible = ownership.visible_sql(table, "t", branch_id, restaurant_id)
    found = []
    for chunk, marks in _in_chunks(row_ids):
        found.extend(database.execute_sql(
            "SELECT t.id, %s, %s FROM %s t WHERE t.id IN (%s) AND (%s) IS NOT TRUE"
            % (branch, restaurant, table, marks, visible), chunk))
    return found
