"""Kitchen order tickets (KOTs): what an order sends the kitchen.

Each order line remembers how much of it the kitchen has had
(``order_items.kot_quantity``), so sending an order again only sends what is
new and no quantity ever reaches the kitchen twice. A send makes one KOT per
kitchen station (the item's ``kot_place``, else the branch's default),
numbered per branch; order types that use token numbers give the order a token
for the day, printed on its KOTs. Cancelling an order cancels the KOTs the
kitchen has not finished.

A KOT item is cancelled by the kitchen or by removing its line from the order;
either way ``cancel_items`` records why, by whom and when, and ``settle`` moves
its KOT on (cancelled once all its items are).

Orders and the kitchen both use this module; it uses neither.
"""

import peewee

from . import events, models, notifications, numbering, pricing
from .errors import Unprocessable

KOT_STATUSES = ["pending_confirmation", "in_kitchen", "food_ready", "served", "cancelled"]
KOT_ITEM_STATUSES = ["pending", "cooking", "ready", "cancelled"]
REMOVED = "removed from order"     # the reason of a sent line removed without one


def default_place(branch_id):
    places = list(models.KotPlace.select().where((models.KotPlace.branch == branch_id) &
                                                 models.KotPlace.is_active)
                  .order_by(models.KotPlace.is_default.desc(), models.KotPlace.id))
    return places[0].id if places else None


def first_status(order, branch, placed, first=None):
    """The status of a new KOT: pending_confirmation for the order's first, sent while
    the order is still ``placed``, when the restaurant has new KOTs confirmed;
    otherwise in_kitchen (RESPONSES.md). ``first``: whether it is the order's first
    KOT, when the caller knows (else it is looked up)."""
    if not placed:
        return "in_kitchen"
    if first is None:
        first = not models.Kot.select().where(models.Kot.order == order.id).exists()
    if first and models.Restaurant.get_by_id(branch.restaurant_id).kot_requires_confirmation:
        return "pending_confirmation"
    return "in_kitchen"


def send_to_kitchen(order, now, *, order_item_ids=None, note=None, kitchen_place_id=None,
                    placed=None):
    """KOTs for every line quantity the kitchen has not had yet; returns them.
    ``order_item_ids`` limits the send to those lines; ``placed``: the order was
    still placed before this send (default: its order_status says so)."""
    # MenuItem.id is selected too: the joined instance replaces line.menu_item, so
    # without its id line.menu_item_id would read None.
    query = (models.OrderItem.select(models.OrderItem, models.MenuItem.id,
                                     models.MenuItem.kot_place)
             .join(models.MenuItem, peewee.JOIN.LEFT_OUTER)
             .where((models.OrderItem.order == order.id) &
                    (models.OrderItem.quantity > models.OrderItem.kot_quantity))
             .order_by(models.OrderItem.id))
    if order_item_ids is not None:
        query = query.where(models.OrderItem.id.in_(list(order_item_ids)))
    pending = list(query)
    if not pending:
        return []
    by_place = _by_place(order, pending, [kitchen_place_id or (
        line.menu_item.kot_place_id if line.menu_item else None) for line in pending])
    branch = pricing.book(order.branch_id).branch
    if _give_token(order, branch, now):
        order.save()
    placed = order.order_status == "placed" if placed is None else placed
    kots, kot_items = _tickets(order, branch, by_place, first_status(order, branch, placed),
                               now, note)
    models.insert_all(kots)
    models.insert_all(kot_items)
    models.OrderItem.update(kot_quantity=models.OrderItem.quantity).where(
        models.OrderItem.id.in_([line.id for line in pending])).execute()
    announce(kots)
    return kots


def new_order_tickets(order, lines, now):
    """(KOTs, KOT items) of an order created with ``lines`` (OrderItem rows), sent to
    the kitchen as it is placed, none of them inserted yet: the caller inserts the
    order, its lines, then these, and ``announce``s the KOTs. The order takes its token
    number and each line its ``kot_quantity`` here, before their rows are written, so
    neither row is written twice; each item's station comes from the price book."""
    book = pricing.book(order.branch_id)
    catalog, branch = book.items, book.branch
    by_place = _by_place(order, lines, [
        catalog[line.menu_item_id].kot_place_id if line.menu_item_id in catalog else None
        for line in lines])
    _give_token(order, branch, now)
    return _tickets(order, branch, by_place, first_status(order, branch, True, first=True),
                    now)


def announce(kots):
    """Tell the kitchen's screens of new KOTs (published once the transaction commits)."""
    for kot in kots:
        events.kot_event("kot.created", kot)


def _by_place(order, lines, places):
    """{kitchen place: its lines}: a line's own place, else the branch's default."""
    fallback = default_place(order.branch_id) if None in places else None
    by_place = {}
    for line, place in zip(lines, places):
        by_place.setdefault(place or fallback, []).append(line)
    return by_place


def _give_token(order, branch, now):
    """Give the order the day's next token number if its type uses them and it has
    none yet; answers whether it did."""
    if order.token_number is not None or order.order_type_id is None:
        return False
    order_type = next((t for t in pricing.book(order.branch_id).order_types
                       if t.id == order.order_type_id), None) or models.OrderType.get_or_none(
        models.OrderType.id == order.order_type_id)
    if order_type is None or not order_type.uses_token_number:
        return False
    order.token_number = numbering.take(branch, numbering.TOKEN, now, daily=True)
    return True


def _tickets(order, branch, by_place, status, now, note=None):
    """Unsaved (KOTs, KOT items), one KOT per place, for what each line has not sent;
    the lines' ``kot_quantity`` becomes their quantity."""
    kots, kot_items = [], []
    for place, lines in by_place.items():
        kot = models.new_row(
            models.Kot, branch=order.branch_id, order=order.id,
            kot_number=numbering.take(branch, numbering.KOT, now),
            token_number=order.token_number, kitchen_place=place, status=status,
            note=note, created_at=now, updated_at=now)
        kots.append(kot)
        for line in lines:
            kot_items.append(models.new_row(
                models.KotItem, kot=kot.id, order_item=line.id, menu_item=line.menu_item_id,
                quantity=line.quantity - line.kot_quantity, status="pending", note=line.note))
            line.kot_quantity = line.quantity
    return kots, kot_items


def cancel_order_kots(order):
    """Cancel every KOT of an order that the kitchen has not finished."""
    kot_ids = [k.id for k in models.Kot.select(models.Kot.id).where(
        (models.Kot.order == order.id) & models.Kot.status.not_in(["served", "cancelled"]))]
    if kot_ids:
        models.Kot.update(status="cancelled").where(models.Kot.id.in_(kot_ids)).execute()
        models.KotItem.update(status="cancelled").where(models.KotItem.kot.in_(kot_ids)).execute()
        events.emit(events.branch_channel("kots", order.branch_id), "kot.updated",
                    {"kot_ids": kot_ids, "order_id": order.id, "status": "cancelled"})


def require_kitchen_quantity_kept(line, new_quantity):
    if new_quantity < line.kot_quantity:
        raise Unprocessable("%d × %s already went to the kitchen; cancel it on its KOT instead."
                            % (line.kot_quantity, line.name))


def cancel_items(kot_items, user_id, now, reason=None):
    """Cancel KOT items not yet cancelled, recording why, by whom and when."""
    ids = [i.id for i in kot_items if i.status != "cancelled"]
    if ids:
        models.KotItem.update(status="cancelled", cancel_reason_text=reason,
                              cancelled_by=user_id, cancelled_at=now).where(
            models.KotItem.id.in_(ids)).execute()
    return ids


def settle(kot, now):
    """A KOT's status once its items changed: cancelled when all are, food_ready when
    nothing is left to make (served stays served), back in_kitchen when something
    is; the kitchen hears kot.updated and the waiter is told when food is ready."""
    statuses = [i.status for i in models.KotItem.select(models.KotItem.status)
                .where(models.KotItem.kot == kot.id)]
    status = kot.status
    if all(s == "cancelled" for s in statuses):
        status = "cancelled"
    elif all(s in ("ready", "cancelled") for s in statuses):
        status = "served" if kot.status == "served" else "food_ready"
    elif kot.status in ("food_ready", "served"):
        status = "in_kitchen"
    # An update query, so updated_at is the node's clock (Model.save writes the wall clock).
    models.Kot.update(updated_at=now, status=status).where(models.Kot.id == kot.id).execute()
    if status == "food_ready" and kot.status != "food_ready":
        notifications.kot_ready(kot, now)
    events.kot_event("kot.updated", kot, status=status)
    return status


def withdraw_line(line, user_id, now, reason=None):
    """A line leaves its order: what the kitchen had of it is cancelled (reason,
    default REMOVED) and each KOT it was on settles. Returns those KOTs' ids."""
    kot_items = list(models.KotItem.select().where(
        (models.KotItem.order_item == line.id) & (models.KotItem.status != "cancelled")))
    cancel_items(kot_items, user_id, now, reason or REMOVED)
    kots = list(models.Kot.select().where(models.Kot.id.in_({i.kot_id for i in kot_items}))
                .order_by(models.Kot.id))
    for kot in kots:
        settle(kot, now)
    return [k.id for k in kots]
