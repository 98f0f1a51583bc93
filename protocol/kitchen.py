"""The kitchen: its views of the tickets (an order's KOTs, the kitchen display,
one KOT) and their status changes.

Making and cancelling an order's tickets is ``protocol.tickets``, which orders
use; the kitchen uses orders (cancelling a KOT or one of its items takes that
quantity off the order's line and re-prices the order, so the customer is never
billed for what the kitchen will not make), and orders never use the kitchen.
"""

import peewee

from . import branches, events, models, notifications, orders, permissions, tickets
from .database import database
from .errors import NotFound, Unprocessable, ValidationFailed
from .tickets import KOT_ITEM_STATUSES, KOT_STATUSES

# --- Reading: an order's KOTs, the kitchen display, one KOT ---------------------------

def _kots():
    """KOTs with their order's number, type and table and their station's name."""
    kot, order, table, place = models.Kot, models.Order, models.Table, models.KotPlace
    return (kot.select(kot, order.formatted_order_number.alias("order_number"),
                       order.order_type_name.alias("order_type"),
                       table.table_code.alias("table_name"), place.name.alias("place_name"))
            .join(order, on=(kot.order == order.id))
            .join(table, peewee.JOIN.LEFT_OUTER, on=(order.table == table.id))
            .switch(kot).join(place, peewee.JOIN.LEFT_OUTER, on=(kot.kitchen_place == place.id))
            .objects())


def _get_kot(actor, kot_id):
    return models.in_branch(models.Kot, actor.branch_id, kot_id, "KOT")


def _items_by_kot(kot_ids, prices=False):
    """{kot id: [item shape]} for all the KOTs in two queries. Name, variation,
    modifiers and the choices not made come from the order line (the menu item's
    name once the line is gone)."""
    if not kot_ids:
        return {}
    ki, line, variation, menu_item, user = (models.KotItem, models.OrderItem,
                                            models.MenuItemVariation, models.MenuItem,
                                            models.User)
    outer = peewee.JOIN.LEFT_OUTER
    name = peewee.fn.COALESCE(line.name, menu_item.item_name).alias("name")
    rows = list(ki.select(ki.id, ki.kot, ki.order_item, ki.menu_item, ki.quantity, ki.status,
                          ki.note, name, variation.variation, line.price, line.modifiers_total,
                          line.amount, line.missing_choices, ki.cancel_reason_text, ki.cancelled_at,
                          user.name.alias("cancelled_by"))
                .join(line, outer, on=(ki.order_item == line.id))
                .join(variation, outer, on=(line.variation == variation.id))
                .switch(ki).join(menu_item, outer, on=(ki.menu_item == menu_item.id))
                .switch(ki).join(user, outer, on=(ki.cancelled_by == user.id))
                .where(ki.kot.in_(list(kot_ids))).order_by(ki.id).dicts())
    modifiers = {}
    line_ids = {r["order_item"] for r in rows if r["order_item"]}
    for mod in models.OrderItemModifier.select().where(
            models.OrderItemModifier.order_item.in_(list(line_ids))).order_by(
            models.OrderItemModifier.id):
        modifiers.setdefault(mod.order_item_id, []).append(
            {"id": mod.modifier_option_id, "name": mod.name,
             **({"price": mod.price} if prices else {})})
    shaped = {}
    for r in rows:
        item = {"id": r["id"], "menu_item_id": r["menu_item"], "order_item_id": r["order_item"],
                "name": r["name"], "variation": r["variation"], "quantity": r["quantity"],
                "status": r["status"], "note": r["note"],
                "modifiers": modifiers.get(r["order_item"], []),
                "missing_choices": r["missing_choices"] or [],
                "cancel_reason": r["cancel_reason_text"], "cancelled_by": r["cancelled_by"],
                "cancelled_at": r["cancelled_at"]}
        if prices:
            item.update(price=r["price"], modifiers_total=r["modifiers_total"],
                        amount=r["amount"])
        shaped.setdefault(r["kot"], []).append(item)
    return shaped


def _shape(kot, items):
    return {
        "id": kot.id, "branch_id": kot.branch_id, "kot_number": kot.kot_number,
        "token_number": kot.token_number, "order_id": kot.order_id,
        "order_number": kot.order_number, "order_type": kot.order_type,
        "table_name": kot.table_name,
        "kitchen_place": kot.place_name, "kitchen_place_id": kot.kitchen_place_id,
        "status": kot.status, "note": kot.note, "items": items, "items_count": len(items),
        "created_at": kot.created_at, "updated_at": kot.updated_at,
    }


def _shapes(query, prices=False):
    kots = list(query)
    items = _items_by_kot([k.id for k in kots], prices)
    return [_shape(k, items.get(k.id, [])) for k in kots]


def order_kots(actor, order_id):
    """GET /pos/orders/{id}/kots: the order's KOTs, oldest first."""
    order = orders.get_order(actor, order_id)
    data = _shapes(_kots().where(models.Kot.order == order.id).order_by(models.Kot.kot_number))
    return {"success": True, "message": "KOTs of order %s." % order.formatted_order_number,
            "data": data, "meta": {"order_id": order.id,
                                   "order_number": order.formatted_order_number,
                                   "total_kots": len(data)}}


def kitchen_display(actor, filters, now):
    """GET /pos/kots: the branch's KOTs of one local day (default today), oldest
    first; filters status, kitchen_place_id, date; limit and offset."""
    return day_kots([models.Branch.get_by_id(actor.branch_id)], filters, now)


def day_kots(branch_rows, filters, now):
    """The KOTs of ``branch_rows`` made on one day, each branch's own local day (the
    date filter, default each branch's today), oldest first; filters status and
    kitchen_place_id; limit and offset."""
    kot = models.Kot
    if filters.date:
        within = branches.within_local_days(kot.branch, kot.created_at, branch_rows,
                                            filters.date, filters.date)
    else:       # each branch's own today
        within = kot.id.in_([])
        for branch in branch_rows:
            today = branches.local_today(branch, now)
            within |= branches.within_local_days(kot.branch, kot.created_at, [branch],
                                                 today, today)
    query = _kots().where(within)
    if filters.status:
        query = query.where(kot.status == filters.status)
    if filters.kitchen_place_id is not None:
        query = query.where(kot.kitchen_place == filters.kitchen_place_id)
    total = query.count()
    page = query.order_by(kot.created_at, kot.kot_number).limit(filters.limit).offset(
        filters.offset)
    return {"success": True, "message": "Kitchen tickets.", "data": _shapes(page),
            "meta": {"total": total, "offset": filters.offset, "limit": filters.limit}}


def show_kot(actor, kot_id):
    """GET /pos/kots/{id}: one KOT with its lines' prices and why it was cancelled."""
    found = _shapes(_kots().where((models.Kot.id == kot_id) &
                                  (models.Kot.branch == actor.branch_id)), prices=True)
    if not found:
        raise NotFound("KOT not found.")
    kot = models.Kot.get_by_id(kot_id)
    reason = (models.KotCancelReason.get_or_none(models.KotCancelReason.id == kot.cancel_reason_id)
              if kot.cancel_reason_id else None)
    data = dict(found[0], cancel_reason_id=kot.cancel_reason_id,
                cancel_reason=kot.cancel_reason_text or (reason.reason if reason else None),
                cancel_reason_text=kot.cancel_reason_text)
    return {"success": True, "message": "KOT %d." % kot.kot_number, "data": data}


def kot_places(actor):
    """GET /pos/kot-places: the branch's active kitchen stations."""
    place = models.KotPlace
    return {"success": True, "message": "Kitchen places.", "data": [
        {"id": p.id, "name": p.name, "type": p.type, "is_default": p.is_default,
         "printer_id": p.printer_id}
        for p in place.select().where((place.branch == actor.branch_id) & place.is_active)
        .order_by(place.is_default.desc(), place.id)]}


def cancel_reasons(actor):
    """GET /pos/kot-cancel-reasons: the restaurant's reasons for cancelling."""
    reason = models.KotCancelReason
    return {"success": True, "message": "KOT cancel reasons.", "data": [
        {"id": r.id, "reason": r.reason, "cancel_order": r.cancel_order,
         "cancel_kot": r.cancel_kot}
        for r in reason.select().where(reason.restaurant == actor.restaurant_id)
        .order_by(reason.id)]}


# --- Changing: a KOT's status, an item's status ----------------------------------------

def _status(value, allowed):
    value = str(value or "").strip().lower()
    value = "cancelled" if value == "canceled" else value
    if value not in allowed:
        raise ValidationFailed.field("status", "The selected status is invalid.", allowed=allowed)
    return value


def _require_not_cancelled(kot):
    if kot.status == "cancelled":
        raise Unprocessable("KOT %d is cancelled; its status cannot change." % kot.kot_number)


def _touch(kot, now, **fields):
    # An update query, so updated_at is the node's clock (Model.save writes the wall clock).
    models.Kot.update(updated_at=now, **fields).where(models.Kot.id == kot.id).execute()


def _take_off_order(kot_items, actor, now, *, reason=None, cancel_order=False):
    """Cancel kot_items and take their quantities off their order's lines (a line
    that reaches 0 goes), then re-price the order. When the reason cancels the
    order, or nothing would be left of it, the whole order is cancelled instead
    and keeps its lines as the record of what was ordered."""
    kot_items = [i for i in kot_items if i.status != "cancelled"]
    if not kot_items:
        return
    tickets.cancel_items(kot_items, actor.user_id, now, reason)
    order = models.Order.get_by_id(models.Kot.get_by_id(kot_items[0].kot_id).order_id)
    if order.status == "canceled":
        return
    less = {}
    for item in kot_items:
        if item.order_item_id:
            less[item.order_item_id] = less.get(item.order_item_id, 0) + item.quantity
    lines = list(models.OrderItem.select().where(models.OrderItem.order == order.id))
    emptied = all(line.quantity <= less.get(line.id, 0) for line in lines)
    if cancel_order or emptied:
        # A reason that cancels the order is a cancel like any other (Cancel Order);
        # the kitchen taking off everything on it leaves nothing to keep open.
        orders.cancel(order, actor, now, by_kitchen=emptied and not cancel_order)
        events.order_event("order.updated", order)
        return
    for line in lines:
        if line.id not in less:
            continue
        if line.quantity <= less[line.id]:
            models.OrderItemModifier.delete().where(
                models.OrderItemModifier.order_item == line.id).execute()
            line.delete_instance()
        else:
            models.OrderItem.update(
                quantity=line.quantity - less[line.id],
                kot_quantity=max(0, line.kot_quantity - less[line.id])).where(
                models.OrderItem.id == line.id).execute()
    orders.reprice(order)
    events.order_event("order.updated", order)


def set_kot_status(actor, kot_id, body, now):
    """PUT /pos/kots/{id}/status. Cancelling cancels the KOT's items and takes them
    off the order; food_ready and served mark its items ready. Only this KOT changes."""
    permissions.require(actor, "kot.update")
    status = _status(body.status, KOT_STATUSES)
    if status == "cancelled":
        permissions.require(actor, "kot.cancel")
    with database.atomic():
        kot = _get_kot(actor, kot_id)
        _require_not_cancelled(kot)
        reason = None
        if body.cancel_reason_id is not None:
            reason = models.KotCancelReason.get_or_none(
                (models.KotCancelReason.id == body.cancel_reason_id) &
                (models.KotCancelReason.restaurant == actor.restaurant_id))
            if reason is None:
                raise ValidationFailed.field("cancel_reason_id",
                                             "The selected cancel reason id is invalid.")
        items = list(models.KotItem.select().where(models.KotItem.kot == kot.id))
        if status == "cancelled":
            _touch(kot, now, status=status, cancel_reason=reason.id if reason else None,
                   cancel_reason_text=body.cancel_reason_text)
            _take_off_order(items, actor, now,
                            reason=body.cancel_reason_text or (reason.reason if reason else None),
                            cancel_order=bool(reason and reason.cancel_order))
        else:
            _touch(kot, now, status=status)
            if status == "food_ready" and kot.status != "food_ready":
                notifications.kot_ready(kot, now)
            if status in ("food_ready", "served"):
                models.KotItem.update(status="ready").where(
                    (models.KotItem.kot == kot.id) &
                    (models.KotItem.status != "cancelled")).execute()
        events.kot_event("kot.updated", kot, status=status)
        return {"success": True, "message": "KOT status updated.",
                "data": {"id": kot.id, "kot_number": kot.kot_number, "status": status}}


def set_item_status(actor, item_id, status, now):
    """PUT /pos/kot-items/{id}/status. A cancelled item comes off the order; once no
    item of the KOT is left to make the KOT is food_ready (cancelled if all are)."""
    permissions.require(actor, "kot.update")
    status = _status(status, KOT_ITEM_STATUSES)
    if status == "cancelled":
        permissions.require(actor, "kot.cancel")
    with database.atomic():
        item = (models.KotItem.select().join(models.Kot)
                .where((models.KotItem.id == item_id) & (models.Kot.branch == actor.branch_id))
                .first())
        if item is None:
            raise NotFound("KOT item not found.")
        kot = models.Kot.get_by_id(item.kot_id)
        _require_not_cancelled(kot)
        if item.status == "cancelled":
            raise Unprocessable("This item was cancelled; send it again as a new item.")
        if status == "cancelled":
            _take_off_order([item], actor, now)
        else:
            models.KotItem.update(status=status).where(models.KotItem.id == item.id).execute()
        kot_status = tickets.settle(kot, now)
        return {"success": True, "message": "KOT item status updated.",
                "data": {"id": item.id, "kot_id": kot.id, "status": status,
                         "kot_status": kot_status}}
