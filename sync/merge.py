"""Shared rows (customers, addresses) merge field by field, later stamp wins.

Each side stamps the fields it writes with its hybrid logical clock
(protocol/hlc.py). Applying another node's version of a row keeps, for every
field, whichever value carries the later stamp, and the merged stamps with it,
so the same customer edited at the Airport edge (address) and in the app at
the cloud (email) ends up one record with both edits, whichever arrives first.
A stamp too far in the future is refused (hlc.ClockDrift).
"""

from protocol import hlc

from . import capture


def has_clocks(table):
    return "clocks" in capture.MODELS[table]._meta.fields


def _clocks(value):
    if isinstance(value, str):
        from protocol import wire
        value = wire.loads(value or "{}")
    return dict(value or {})


def merge_upsert(table, incoming):
    model = capture.MODELS[table]
    remote = _clocks(incoming.get("clocks"))
    for stamp in remote.values():
        hlc.observe(stamp)
    local_row = model.get_or_none(model.id == incoming["id"])
    if local_row is None:
        capture.upsert(table, incoming)
        return
    local = _clocks(local_row.clocks)
    merged = capture.encode_row(local_row)
    for column, value in incoming.items():
        if column in ("id", "clocks") or column not in merged:
            continue
        if remote.get(column, "") > local.get(column, ""):
            merged[column] = value
            local[column] = remote[column]
    merged["clocks"] = local
    capture.upsert(table, merged)
