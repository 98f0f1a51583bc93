"""What changes arriving by sync mean to the realtime subscribers of the node that
applies them.

At the cloud, an edge's orders, KOTs, table locks and notifications arrive as rows,
not as domain operations; ``announce`` raises the events head office's screens and
the users' phones would have seen had the write been made there (protocol.events).
"""

from protocol import events, models


def _order(order):
    events.order_event("order.created" if order.created_at == order.updated_at
                       else "order.updated", order)


def _kot(kot):
    events.kot_event("kot.updated", kot)


def _lock(lock):
    if lock.locked_at == lock.refreshed_at:                                   # a new lock
        events.table_event("table.locked", models.Table.get_by_id(lock.table_id), lock.user_id)


def _notification(note):
    if note.created_at == note.updated_at:                                    # a new one
        events.emit(events.user_channel(note.user_id), events.NOTIFICATION_EVENT, {
            "title": note.title, "body": note.body, "data": note.data or {},
            "id": note.id, "type": note.type})


_ANNOUNCED = {"orders": (models.Order, _order), "kots": (models.Kot, _kot),
              "table_locks": (models.TableLock, _lock),
              "notifications": (models.Notification, _notification)}


def announce(changes):
    """Emit the events of changes of the branch that arrived by sync (orders, KOTs,
    table locks, notifications) as if they had been made here, in the changes'
    order; one query per table and 500 rows."""
    wanted = {}
    for change in changes:
        if change["op"] == "upsert" and change["table"] in _ANNOUNCED:
            wanted.setdefault(change["table"], []).append(change["id"])
    for table, row_ids in wanted.items():
        model, emit = _ANNOUNCED[table]
        for start in range(0, len(row_ids), 500):
            chunk = row_ids[start:start + 500]
            rows = {row.id: row for row in model.select().where(model.id.in_(chunk))}
            for row_id in chunk:
                if row_id in rows:
                    emit(rows[row_id])
