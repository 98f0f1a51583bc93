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


def branch_channel(kind, branch_id):
    """kind: orders, kots, today-orders, print-jobs, tables, reservations."""
    return "private-%s.branch.%d" % (kind, branch_id)


def order_channel(order_id):
    return "private-orders.%d" % order_id


def emit(channel, name, data):
    pending = getattr(_local, "pending", None)
    if pending is not None:
        pending.append(Event(channel, name, data))


def collect():
    """Start collecting the events of one operation (Store threads only)."""
    _local.pending = []


def collected():
    pending, _local.pending = getattr(_local, "pending", None) or [], None
    return pending
