"""A branch's local time: its zone, its business day, and the UTC bounds of a
local day.

A branch keeps its IANA timezone in ``branches.timezone``; a missing or unknown
one counts as UTC. The database stores naive UTC datetimes; clients send and
read the branch's local time.
"""

import datetime
import zoneinfo


def branch_zone(branch):
    """The branch's ZoneInfo, UTC when its timezone is missing or unknown."""
    try:
        return zoneinfo.ZoneInfo(branch.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.timezone.utc


def to_utc(value, zone):
    """A datetime from a client (naive: the branch's local time) as naive UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def to_local(value, zone):
    return value.replace(tzinfo=datetime.timezone.utc).astimezone(zone)


def day_bounds(day, zone):
    """[start, end) of a local calendar day, in naive UTC."""
    start = datetime.datetime.combine(day, datetime.time())
    return to_utc(start, zone), to_utc(start + datetime.timedelta(days=1), zone)


def local_today(branch, now):
    """The branch's business date for a naive UTC datetime."""
    return to_local(now, branch_zone(branch)).date()


def within_local_days(branch_field, time_field, branch_rows, first=None, last=None):
    """A query condition: a row of one of ``branch_rows`` (``branch_field``) whose
    ``time_field`` falls on the local days ``first`` to ``last`` (inclusive; None:
    no bound) of that row's own branch, each branch in its own time zone."""
    within = None
    for branch in branch_rows:
        zone = branch_zone(branch)
        condition = branch_field == branch.id
        if first is not None:
            condition &= time_field >= day_bounds(first, zone)[0]
        if last is not None:
            condition &= time_field < day_bounds(last, zone)[1]
        within = condition if within is None else within | condition
    return within if within is not None else branch_field.in_([])      # no branch: no row
