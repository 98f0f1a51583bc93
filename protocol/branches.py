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
