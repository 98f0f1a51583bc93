"""What changes arriving by sync mean to the realtime subscribers of the node that
applies them.

At the cloud, an edge's orders, KOTs, table locks, reservations and notifications
arrive as rows, not as domain operations; ``announce`` raises the events head
office's screens and the users' phones would have seen had the write been made
there (protocol.events), in the order the edge made the changes. A change made
more than LATE ago (at an edge that was offline, sent when it came back) is
announced all the same, its events marked ``"late": true``.
"""

import datetime

from protocol import events, models, reservations
from protocol.branches import branch_zone

from . import rows

LATE = datetime.timedelta(seconds=30)


def _order(order):
    events.order_event("order.created" if order.created_at == order.updated_at
                       else "order.updated", order)


def _kot(kot):
    events.kot_event("kot.updated", kot)


def _lock(lock):
    if lock.locked_at == lock.refreshed_at:                                   # a new lock
        events.table_event("table.locked", models.Table.get_by_id(lock.table_id), lock.user_id)


def _reservation(reservation):
    data = reservations.shape(reservation, branch_zone(reservation.branch))
    events.emit(events.branch_channel("reservations", reservation.branch_id),
                "reservation.created" if reservation.created_at == reservation.updated_at
                else "reservation.updated", data)


def _notification(note):
    if note.created_at == note.updated_at:                                    # a new one
        events.emit(events.user_channel(note.user_id), events.NOTIFICATION_EVENT, {
            "title": note.title, "body": note.body, "data": note.data or {},
            "id": note.id, "type": note.type})


_ANNOUNCED = {"orders": (models.Order, _order), "kots": (models.Kot, _kot),
              "table_locks": (models.TableLock, _lock),
              "reservations": (models.Reservation, _reservation),
              "notifications": (models.Notification, _notification)}

# The columns the events of the most frequent tables read: an edge catching up
# sends thousands of orders, read as these columns alone (rows.read_fields), not
# as model instances.
_COLUMNS = {"orders": ("branch_id", "formatted_order_number", "status", "order_status",
                       "table_id", "total", "created_at", "updated_at"),
            "kots": ("branch_id", "kot_number", "order_id", "token_number",
                     "kitchen_place_id", "status", "updated_at")}


def _rows(table, row_ids):
    """{id: the row as its event needs it} of the stored rows."""
    if table in _COLUMNS:
        return rows.read_fields(table, _COLUMNS[table], row_ids)
    model = _ANNOUNCED[table][0]
    found = {}
    for start in range(0, len(row_ids), 500):
        for row in model.select().where(model.id.in_(row_ids[start:start + 500])):
            found[row.id] = row
    return found


def announce(changes, now):
    """Emit the events of changes of the branch that arrived by sync, as if they
    had been made here, in the changes' order; one query per table and 500 rows."""
    wanted = {}
    for change in changes:
        if change["op"] == "upsert" and change["table"] in _ANNOUNCED:
            wanted.setdefault(change["table"], []).append(change["id"])
    found = {(table, row_id): row for table, row_ids in wanted.items()
             for row_id, row in _rows(table, row_ids).items()}
    for change in changes:
        row = found.pop((change["table"], change["id"]), None)   # its latest state, once
        if row is None:
            continue
        raised = events.raised()
        _ANNOUNCED[change["table"]][1](row)
        stamped = getattr(row, "updated_at", None)
        if stamped is not None and now - stamped > LATE:
            events.mark_late(raised)
