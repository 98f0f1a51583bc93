"""Tables and their locks: who is serving a table, and whether it is free.

A dine-in order that goes to the kitchen or is billed locks its table for the
waiter who sent it. The lock is refreshed by that waiter's activity on the
table's orders and expires after the restaurant's ``table_lock_timeout_minutes``
without activity. Another user's order on a locked table is refused with 403;
only the holder or a manager unlocks it. A table runs while it has an open
order and becomes available again when the order is paid or cancelled.

Also here: the floor as the POS lists it (``list_tables``, ``list_areas``).
"""

import datetime
import zoneinfo

import peewee

from . import events, models, permissions, reservations
from .database import database
from .errors import Forbidden, NotFound, ValidationFailed

OPEN_STATUSES = ("kot", "billed", "payment_due")
DEFAULT_TIMEOUT_MINUTES = 10


def _branch_settings(branch_id):
    """(lock timeout, timezone) of the branch, in one query."""
    row = (models.Branch.select(models.Branch.timezone,
                                models.Restaurant.table_lock_timeout_minutes)
           .join(models.Restaurant).where(models.Branch.id == branch_id).first())
    minutes = row.restaurant.table_lock_timeout_minutes if row else DEFAULT_TIMEOUT_MINUTES
    try:
        tz = zoneinfo.ZoneInfo((row.timezone if row else None) or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = datetime.timezone.utc
    return datetime.timedelta(minutes=minutes), tz


def lock_timeout(branch_id):
    return _branch_settings(branch_id)[0]


def is_expired(lock, timeout, now):
    return lock.refreshed_at + timeout <= now


def live_lock(table, now):
    """The table's lock if it has not expired, else None (an expired one is removed)."""
    lock = models.TableLock.get_or_none(models.TableLock.table == table.id)
    if lock is None:
        return None
    if is_expired(lock, lock_timeout(table.branch_id), now):
        lock.delete_instance()
        return None
    return lock


def holder_name(lock):
    return models.User.select(models.User.name).where(models.User.id == lock.user_id).scalar()


def take_lock(table, actor, now):
    """Lock table for actor (or refresh their lock); 403 if someone else holds it."""
    lock = check_not_locked_by_other(table, actor, now)
    if lock is None:
        models.TableLock.create(table=table.id, branch=table.branch_id, user=actor.user_id,
                                locked_at=now, refreshed_at=now)
        events.table_event("table.locked", table, actor.user_id)
    else:
        lock.refreshed_at = now
        lock.save()
    if table.available_status != "running":
        table.available_status = "running"
        table.save()


def check_not_locked_by_other(table, actor, now):
    """403 naming the holder if someone else holds a live lock on table; the lock."""
    lock = live_lock(table, now)
    if lock is not None and lock.user_id != actor.user_id:
        raise Forbidden("Table %s is locked by %s. Ask them or a manager to unlock it."
                        % (table.table_code, holder_name(lock)))
    return lock


def open_order_on(table, exclude_order_id=None):
    query = models.Order.select().where((models.Order.table == table.id) &
                                        models.Order.status.in_(OPEN_STATUSES))
    if exclude_order_id is not None:
        query = query.where(models.Order.id != exclude_order_id)
    return query.first()


def free_table(table_id, exclude_order_id=None):
    """Release a table once no other open order is on it."""
    table = models.Table.get_or_none(models.Table.id == table_id)
    if table is None or open_order_on(table, exclude_order_id) is not None:
        return
    models.TableLock.delete().where(models.TableLock.table == table.id).execute()
    events.table_event("table.unlocked", table)
    if table.available_status == "running":
        table.available_status = "available"
        table.save()


def get_table(branch_id, table_id, field=None):
    """The branch's table, or 404 (422 on ``field`` when it came in a body)."""
    try:
        return models.in_branch(models.Table, branch_id, table_id, "Table")
    except NotFound:
        if field:
            raise ValidationFailed.field(field, "The selected table id is invalid.") from None
        raise


def unlock(actor, table_id, now):
    """POST /pos/tables/{id}/unlock: the holder, or a manager or cashier, frees the lock."""
    with database.atomic():
        table = get_table(actor.branch_id, table_id)
        lock = live_lock(table, now)
        if lock is None:
            return {"success": True, "message": "Table %s is not locked." % table.table_code,
                    "table_id": table.id}
        if (lock.user_id != actor.user_id and
                not permissions.allowed(actor.roles, "table.unlock_any")):
            raise Forbidden("Only %s or a manager can unlock table %s."
                            % (holder_name(lock), table.table_code))
        lock.delete_instance()
        events.table_event("table.unlocked", table)
        return {"success": True, "message": "Table %s unlocked." % table.table_code,
                "table_id": table.id}


# --- The floor as the POS lists it ----------------------------------------------------

def _table_shape(table, lock, order_id, actor, tz):
    mine = lock is not None and lock.user_id == actor.user_id
    locked_at = (lock.locked_at.replace(tzinfo=datetime.timezone.utc).astimezone(tz)
                 .strftime("%H:%M") if lock else None)
    return {
        "id": table.id,
        "table_code": table.table_code,
        "status": table.status,
        "available_status": table.available_status,
        "area_id": table.area_id,
        "area_name": table.area.area_name,
        "seating_capacity": table.seating_capacity,
        "is_locked": lock is not None,
        "is_locked_by_current_user": mine,
        "is_locked_by_other_user": lock is not None and not mine,
        "locked_by_user_id": lock.user_id if lock else None,
        "locked_by_user_name": lock.user.name if lock else None,
        "locked_at": locked_at,
        "is_running": table.available_status == "running",
        "active_order_id": order_id,
    }


FILTERS = {
    "all": lambda t: True,
    "available": lambda t: t["available_status"] == "available",
    "running": lambda t: t["is_running"],
    "locked": lambda t: t["is_locked"],
    "locked_by_me": lambda t: t["is_locked_by_current_user"],
    "locked_by_other": lambda t: t["is_locked_by_other_user"],
}


def list_tables(actor, status, now):
    """GET /pos/tables: the branch's tables with their locks and open orders, the
    summary over all of them, and the rows that match the status filter. A read:
    expired locks show as unlocked but are left for the next write to remove, and a
    table an upcoming reservation holds shows reserved unless it is running."""
    status = (status or "all").lower()
    if status not in FILTERS:
        raise ValidationFailed.field("status", "The selected status is invalid.",
                                     allowed=list(FILTERS))
    timeout, tz = _branch_settings(actor.branch_id)
    rows = (models.Table.select(models.Table, models.Area.id, models.Area.area_name)
            .join(models.Area).where(models.Table.branch == actor.branch_id)
            .order_by(models.Area.id, models.Table.id))
    locks = {lock.table_id: lock for lock in
             models.TableLock.select(models.TableLock, models.User.id, models.User.name)
             .join(models.User).where(models.TableLock.branch == actor.branch_id)
             if not is_expired(lock, timeout, now)}
    open_orders = {}
    for order in (models.Order.select(models.Order.id, models.Order.table)
                  .where((models.Order.branch == actor.branch_id) &
                         models.Order.table.is_null(False) &
                         models.Order.status.in_(OPEN_STATUSES))
                  .order_by(models.Order.id)):
        open_orders.setdefault(order.table_id, order.id)
    rows = list(rows)
    reserved = reservations.reserved_table_ids(actor.branch_id, now)
    for table in rows:
        if table.id in reserved and table.available_status != "running":
            table.available_status = "reserved"      # shown only; the row is not written
    shaped = [_table_shape(t, locks.get(t.id), open_orders.get(t.id), actor, tz) for t in rows]
    return {
        "tables": [t for t in shaped if FILTERS[status](t)],
        "is_admin": permissions.is_manager(actor.roles),
        "summary": {
            "total": len(shaped),
            "running": sum(t["is_running"] for t in shaped),
            "available": sum(FILTERS["available"](t) for t in shaped),
            "locked_by_me": sum(t["is_locked_by_current_user"] for t in shaped),
            "locked_by_other": sum(t["is_locked_by_other_user"] for t in shaped),
        },
    }


def list_areas(actor):
    """GET /areas: the branch's areas with how many tables each has."""
    count = peewee.fn.COUNT(models.Table.id)
    query = (models.Area.select(models.Area.id, models.Area.area_name, count.alias("n"))
             .join(models.Table, peewee.JOIN.LEFT_OUTER)
             .where(models.Area.branch == actor.branch_id)
             .group_by(models.Area.id, models.Area.area_name).order_by(models.Area.id))
    return [{"id": a.id, "area_name": a.area_name, "tables_count": a.n} for a in query]
