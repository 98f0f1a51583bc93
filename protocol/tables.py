"""Tables and their locks: who is serving a table, and whether it is free.

A dine-in order that goes to the kitchen or is billed locks its table for the
waiter who sent it. The lock is refreshed by that waiter's activity on the
table's orders and expires after the restaurant's ``table_lock_timeout_minutes``
without activity. Another user's order on a locked table is refused with 403;
only the holder or a manager unlocks it. A table runs while it has an open
order and becomes available again when the order is paid or cancelled.

The floor as the POS lists it (with reservations) is ``protocol.floor``.
"""

import datetime

from . import branches, events, models, permissions
from .database import Prepared, database, slot
from .errors import Forbidden, NotFound, ValidationFailed

OPEN_STATUSES = ("kot", "billed", "payment_due")
DEFAULT_TIMEOUT_MINUTES = 10


def branch_settings(branch_id):
    """(lock timeout, timezone) of the branch, in one query."""
    row = (models.Branch.select(models.Branch.timezone,
                                models.Restaurant.table_lock_timeout_minutes)
           .join(models.Restaurant).where(models.Branch.id == branch_id).first())
    minutes = row.restaurant.table_lock_timeout_minutes if row else DEFAULT_TIMEOUT_MINUTES
    tz = branches.branch_zone(row) if row else datetime.timezone.utc
    return datetime.timedelta(minutes=minutes), tz


def lock_timeout(branch_id):
    return branch_settings(branch_id)[0]


def is_expired(lock, timeout, now):
    return lock.refreshed_at + timeout <= now


# Read for every dine-in order sent to the kitchen or billed: built once (database.Prepared).
_LOCK = Prepared(lambda: models.TableLock.select().where(
    models.TableLock.table == slot("table")))
_OPEN_ORDER = Prepared(lambda: models.Order.select().where(
    (models.Order.table == slot("table")) & models.Order.status.in_(OPEN_STATUSES) &
    (models.Order.id != slot("exclude"))).order_by(models.Order.id).limit(1))


def live_lock(table, now):
    """The table's lock if it has not expired, else None (an expired one is removed)."""
    lock = _LOCK.first(models.TableLock, table=table.id)
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
    hold_lock(table, actor, now, check_not_locked_by_other(table, actor, now))


def hold_lock(table, actor, now, lock):
    """Lock table for actor, or refresh ``lock``: what ``check_not_locked_by_other``
    just answered (theirs, or None)."""
    if lock is None:
        models.insert_all([models.TableLock(table=table.id, branch=table.branch_id,
                                            user=actor.user_id, locked_at=now,
                                            refreshed_at=now)])
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
    """An open order on the table (but ``exclude_order_id``), or None."""
    return _OPEN_ORDER.first(models.Order, table=table.id, exclude=exclude_order_id or 0)


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
                not permissions.allowed(actor, "table.unlock_any")):
            raise Forbidden("Only %s or a manager can unlock table %s."
                            % (holder_name(lock), table.table_code))
        lock.delete_instance()
        events.table_event("table.unlocked", table)
        return {"success": True, "message": "Table %s unlocked." % table.table_code,
                "table_id": table.id}
