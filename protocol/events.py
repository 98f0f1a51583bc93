"""Events a domain operation raises, published only once its transaction commits.

An operation calls ``emit(channel, name, data)`` while it runs in a Store
thread; the Store hands the events of every committed operation to the node's
``publish`` (the WebSocket hub on the LAN, later also push and sync). An
operation that fails publishes nothing. Channel names are the ones companion
apps subscribe to (RESPONSES.md, Pusher section).
"""

import dataclasses
import threading

_local = threading.local()

NOTIFICATION_EVENT = "Illuminate\\Notifications\\Events\\BroadcastNotificationCreated"


@dataclasses.dataclass(frozen=True)
class Event:
    channel: str
    name: str
    data: dict


def user_channel(user_id):
    return "private-App.Models.User.%d" % user_id


def rider_channel(executive_id):
    """A rider's private channel (the rider app's token authorises it)."""
    return "private-App.Models.DeliveryExecutive.%d" % executive_id


def branch_channel(kind, branch_id):
    """kind: orders, kots, today-orders, print-jobs, tables, reservations, delivery."""
    return "private-%s.branch.%d" % (kind, branch_id)


def order_channel(order_id):
    return "private-orders.%d" % order_id


def order_event(name, order):
    """An order was created or changed (order.created, order.updated, order.paid): the
    branch's order list and today's orders, and the order's own channel as
    OrderStatusUpdated."""
    data = {"order_id": order.id, "order_number": order.formatted_order_number,
            "status": order.status, "order_status": order.order_status,
            "table_id": order.table_id, "total": order.total}
    emit(branch_channel("orders", order.branch_id), name, data)
    emit(branch_channel("today-orders", order.branch_id), "today-orders.updated", data)
    emit(order_channel(order.id), "OrderStatusUpdated", data)


def kot_event(name, kot, **changed):
    """A KOT was created (kot.created) or its status changed (kot.updated); ``changed``:
    fields written by an update query, which the kot object does not show yet."""
    data = {"kot_id": kot.id, "kot_number": kot.kot_number, "order_id": kot.order_id,
            "token_number": kot.token_number, "kitchen_place_id": kot.kitchen_place_id,
            "status": kot.status}
    emit(branch_channel("kots", kot.branch_id), name, dict(data, **changed))


def table_event(name, table, user_id=None):
    """A table was locked (table.locked, user_id: who holds it) or released (table.unlocked)."""
    emit(branch_channel("tables", table.branch_id), name,
         {"table_id": table.id, "table_code": table.table_code, "user_id": user_id})


def delivery_event(name, order, data, riders=()):
    """A delivery was assigned (delivery.assigned) or moved on (delivery.updated): the
    branch's delivery channel, and the private channel of each rider concerned."""
    data = dict({"order_id": order.id, "order_number": order.formatted_order_number,
                 "order_status": order.order_status,
                 "delivery_executive_id": order.delivery_executive_id,
                 "delivery_app_id": order.delivery_app_id}, **data)
    emit(branch_channel("delivery", order.branch_id), name, data)
    for executive_id in dict.fromkeys(r for r in riders if r):
        emit(rider_channel(executive_id), name, data)


def emit(channel, name, data):
    pending = getattr(_local, "pending", None)
    if pending is not None:
        pending.append(Event(channel, name, data))


def raised():
    """How many events the running operation has raised so far (for ``mark_late``)."""
    return len(getattr(_local, "pending", None) or ())


def mark_late(since):
    """Mark the events raised since ``raised()`` answered ``since`` as ``"late": true``:
    news of a change made a while ago (at an edge that was offline)."""
    for event in (getattr(_local, "pending", None) or ())[since:]:
        event.data["late"] = True


def collect():
    """Start collecting the events of one operation (Store threads only)."""
    _local.pending = []


def collected():
    pending, _local.pending = getattr(_local, "pending", None) or [], None
    return pending
