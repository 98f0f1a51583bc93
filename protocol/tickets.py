"""Kitchen order tickets (KOTs): what an order sends the kitchen.

Each order line remembers how much of it the kitchen has had
(``order_items.kot_quantity``), so sending an order again only sends what is
new and no quantity ever reaches the kitchen twice. A send makes one KOT per
kitchen station (the item's ``kot_place``, else the branch's default),
numbered per branch; order types that use token numbers give the order a token
for the day, printed on its KOTs. Cancelling an order cancels the KOTs the
kitchen has not finished.

Orders and the kitchen both use this module; it uses neither.
"""

import peewee

from . import events, models, numbering
from .errors import Unprocessable

KOT_STATUSES = ["pending_confirmation", "in_kitchen", "food_ready", "served", "cancelled"]
KOT_ITEM_STATUSES = ["pending", "cooking", "ready", "cancelled"]


def default_place(branch_id):
    places = list(models.KotPlace.select().where((models.KotPlace.branch == branch_id) &
                                                 models.KotPlace.is_active)
                  .order_by(models.KotPlace.is_default.desc(), models.KotPlace.id))
    return places[0].id if places else None


def send_to_kitchen(order, now, *, order_item_ids=None, note=None, kitchen_place_id=None):
    """KOTs for every line quantity the kitchen has not had yet; returns them.
    ``order_item_ids`` limits the send to those lines."""
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

    fallback = default_place(order.branch_id)
    by_place = {}
    for line in pending:
        place = kitchen_place_id or (line.menu_item.kot_place_id if line.menu_item else None)
        by_place.setdefault(place or fallback, []).append(line)

    branch = models.Branch.get_by_id(order.branch_id)
    if order.token_number is None and order.order_type_id is not None:
        order_type = models.OrderType.get_or_none(models.OrderType.id == order.order_type_id)
        if order_type is not None and order_type.uses_token_number:
            order.token_number = numbering.take(branch, numbering.TOKEN, now, daily=True)
            order.save()

    kots = []
    for place, lines in by_place.items():
        kot = models.Kot.create(
            branch=order.branch_id, order=order.id,
            kot_number=numbering.take(branch, numbering.KOT, now),
            token_number=order.token_number, kitchen_place=place, status="in_kitchen",
            note=note, created_at=now, updated_at=now)
        for line in lines:
            models.KotItem.create(kot=kot.id, order_item=line.id, menu_item=line.menu_item_id,
                                  quantity=line.quantity - line.kot_quantity, status="pending",
                                  note=line.note)
            models.OrderItem.update(kot_quantity=line.quantity).where(
                models.OrderItem.id == line.id).execute()
        kots.append(kot)
        events.kot_event("kot.created", kot)
    return kots


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
