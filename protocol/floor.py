"""The floor as the POS lists it: the branch's tables with their locks, open
orders and upcoming reservations (``list_tables``), and its areas (``list_areas``).

Only reads; tables and their locks are ``protocol.tables``, bookings
``protocol.reservations``.
"""

import datetime
import hashlib

import peewee

from . import models, payments, permissions, reservations, tables
from .errors import ValidationFailed


def table_hash(table_id):
    """The module's table ``hash`` (its QR code key): stable per table, from the id."""
    return hashlib.sha256(b"table:%d" % table_id).hexdigest()[:16]


def _active_order(order):
    """The running order a floor plan shows on its table (COMPAT.md)."""
    if order is None:
        return None
    waiter = order.waiter if order.waiter_id else None
    return {"id": order.id, "order_number": order.order_number,
            "formatted_order_number": order.formatted_order_number, "status": order.status,
            "total": order.total, "amount_due": payments.amount_due(order), "pax": order.pax,
            "waiter": {"id": waiter.id, "name": waiter.name} if waiter else None}


def _table_shape(table, lock, order, actor, tz):
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
        "active_order_id": order.id if order else None,
        "current_order_id": order.id if order else None,
        "order_id": order.id if order else None,
        "order_total": order.total if order else None,
        "amount_due": payments.amount_due(order) if order else None,
        "active_order": _active_order(order),
        "branch_id": table.branch_id,
        "hash": table_hash(table.id),
        "created_at": table.created_at,
        "updated_at": table.updated_at,
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
    """GET /pos/tables: the branch's tables with their locks and open orders (one
    query for all of them), the
    summary over all of them, and the rows that match the status filter. A read:
    expired locks show as unlocked but are left for the next write to remove, and a
    table an upcoming reservation holds shows reserved unless it is running."""
    status = (status or "all").lower()
    if status not in FILTERS:
        raise ValidationFailed.field("status", "The selected status is invalid.",
                                     allowed=list(FILTERS))
    timeout, tz = tables.branch_settings(actor.branch_id)
    rows = (models.Table.select(models.Table, models.Area.id, models.Area.area_name)
            .join(models.Area).where(models.Table.branch == actor.branch_id)
            .order_by(models.Area.id, models.Table.id))
    locks = {lock.table_id: lock for lock in
             models.TableLock.select(models.TableLock, models.User.id, models.User.name)
             .join(models.User).where(models.TableLock.branch == actor.branch_id)
             if not tables.is_expired(lock, timeout, now)}
    open_orders = {}
    order, waiter = models.Order, models.User
    for found in (order.select(order.id, order.table, order.order_number,
                               order.formatted_order_number, order.status, order.total,
                               order.amount_paid, order.pax, order.waiter, waiter.id,
                               waiter.name)
                  .join(waiter, peewee.JOIN.LEFT_OUTER, on=(order.waiter == waiter.id))
                  .where((order.branch == actor.branch_id) & order.table.is_null(False) &
                         order.status.in_(tables.OPEN_STATUSES))
                  .order_by(order.id)):
        open_orders.setdefault(found.table_id, found)
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
