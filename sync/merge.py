"""Shared rows (customers, addresses) merge field by field, later stamp wins.

Each side stamps the fields it writes with its hybrid logical clock
(protocol/hlc.py). Applying another node's version of a row keeps, for every
field, whichever value carries the later stamp, and the merged stamps with it,
so the same customer edited at the Airport edge (address) and in the app at
the cloud (email) ends up one record with both edits, whichever arrives first.
A stamp too far in the future raises hlc.ClockDrift, which sync/apply.py
refuses.
"""

from protocol import hlc, wire

from . import rows


def has_clocks(table):
    return "clocks" in rows.MODELS[table]._meta.fields


def _clocks(value):
    """{column: stamp} of a row's ``clocks``; Malformed when they cannot be read."""
    try:
        clocks = dict((wire.loads(value or "{}") if isinstance(value, str) else value) or {})
        for stamp in clocks.values():
            hlc.decode(stamp)
    except (ValueError, TypeError, AttributeError) as exc:
        raise rows.Malformed("clocks: cannot read %.60r" % (value,)) from exc
    return clocks


def merge_upsert(table, incoming):
    """Upsert a shared row field by field; hlc.ClockDrift when a stamp is too far
    ahead, rows.Malformed when the row cannot be read."""
    model = rows.MODELS[table]
    if incoming.get("id") is None:
        raise rows.Malformed("a %s row without an id" % table)
    remote = _clocks(incoming.get("clocks"))
    for stamp in remote.values():
        hlc.observe(stamp)
    local_row = model.get_or_none(model.id == incoming["id"])
    if local_row is None:
        rows.upsert(table, incoming)
        return
    local = _clocks(local_row.clocks)
    merged = rows.encode_row(local_row)
    for column, value in incoming.items():
        if column in ("id", "clocks") or column not in merged:
            continue
        if remote.get(column, "") > local.get(column, ""):
            merged[column] = value
            local[column] = remote[column]
    merged["clocks"] = local
    rows.upsert(table, merged)
