"""Orders: create, change and act on them; list and show them.

Every operation here runs in one transaction (``database.atomic()``) in a
Store thread; the caller passes the Actor (who, which branch) and ``now``.
The first of ``actions`` decides what a new order becomes (RESPONSES.md):

    none/draft  draft     / placed     table stays available
    kot         kot       / confirmed  table running and locked; KOTs made
    bill        billed    / confirmed  table running and locked
    cancel      canceled  / cancelled  table available

Prices come from ``protocol.pricing`` only; lines keep the price they were
ordered at when the order is re-priced later. The shapes answers carry are
``protocol.order_shapes``.
"""

import re
from decimal import Decimal

import peewee

from . import (cash_register, customers, events, models, numbering, permissions, pricing,
               rider_states, tables, tickets)
from .database import Prepared, database, slot
from .errors import APIError, Conflict, Unprocessable, ValidationFailed
from .money import ZERO, to_money
from .order_shapes import Parts, created_answer, order_shape
from .pages import PAGE_SIZE, paginate

STATUSES = ["draft", "kot", "billed", "paid", "canceled", "payment_due", "ready",
            "out_for_delivery", "delivered", "pending_verification"]
ORDER_STATUSES = ["placed", "confirmed", "preparing", "food_ready", "ready_for_pickup",
                  "out_for_delivery", "served", "delivered", "cancelled"]
# A delivery that did not arrive (protocol/dispatch.py); not a status POST .../status sets.
DELIVERY_FAILED = "failed"
ACTIONS = {
    "draft": ("draft", "placed"),
    "kot": ("kot", "confirmed"),
    "bill": ("billed", "confirmed"),
    "cancel": ("canceled", "cancelled"),
}
CLOSED = ("paid", "canceled")
MAX_PAGE_SIZE = 100     # GET /pos/orders?per_page= (or limit=), as the module's tills ask


# --- Lookups ------------------------------------------------------------------------

def _norm(value):
    return re.sub(r"[^a-z0-9]", "", str(value).lower())


def resolve_order_type(branch_id, value=None, order_type_id=None):
    """The branch's order type named by id, slug, display name or type
    ("Dine In", "dine_in", "dinein", "delivery", 3); default dine-in."""
    types = pricing.book(branch_id).order_types
    wanted = order_type_id if order_type_id is not None else value
    if wanted is None or wanted == "":
        wanted = "dine_in"
    for order_type in types:
        if str(wanted) == str(order_type.id):
            return order_type
    key = _norm(wanted)
    for order_type in types:
        if key in (_norm(order_type.slug), _norm(order_type.order_type_name),
                   _norm(order_type.type)):
            return order_type
    raise ValidationFailed.field("order_type", "The selected order type is invalid.")


def get_order(actor, order_id):
    return models.in_branch(models.Order, actor.branch_id, order_id, "Order")


def _branch_row(model, branch_id, row_id, field, message):
    if row_id is None:
        return None
    row = model.get_or_none((model.id == row_id) & (model.branch == branch_id))
    if row is None:
        raise ValidationFailed.field(field, message)
    return row


def _user_in_branch(branch_id, user_id, field):
    if user_id is None:
        return None
    ok = (models.UserBranch.select().where((models.UserBranch.user == user_id) &
                                           (models.UserBranch.branch == branch_id)).exists())
    if not ok:
        raise ValidationFailed.field(field, "The selected %s is invalid." % field.replace("_", " "))
    return user_id


def first_action(actions):
    for action in actions or []:
        action = str(action).lower()
        if action not in ACTIONS and action != "pay":
            raise ValidationFailed.field("actions", "The selected action %s is invalid." % action)
        if action in ACTIONS:
            return action
    return "draft"


# --- Writing lines and totals ---------------------------------------------------------

def _line_rows(order, lines, now):
    """Unsaved OrderItem and OrderItemModifier rows for priced lines (ids assigned)."""
    per_item = pricing.book(order.branch_id).tax_mode == "item"
    items, modifiers = [], []
    for line in lines:
        row = models.new_row(
            models.OrderItem, order=order.id, menu_item=line.menu_item_id,
            variation=line.variation_id,
            name=line.name, quantity=line.quantity, price=line.unit_price, note=line.note,
            modifiers_total=line.modifiers_total, amount=line.amount,
            tax_amount=line.tax_amount, tax_percentage=line.tax_percentage,
            tax_breakup=_breakup(line, per_item), missing_choices=line.missing or None,
            created_at=now, updated_at=now)
        line.row_id = row.id
        items.append(row)
        modifiers.extend(models.new_row(
            models.OrderItemModifier, order_item=row.id, modifier_option=mod.option_id,
            name=mod.name, price=mod.price,
            created_at=now, updated_at=now) for mod in line.modifiers)
    return items, modifiers


def _breakup(line, per_item):
    if not per_item:
        return []
    return [{"tax_id": r.id, "name": r.name, "percent": r.percent,
             "amount": line.tax_breakup.get(r.name, {}).get("amount", ZERO)}
            for r in line.taxes]


def _stored_lines(order):
    """The order's lines as pricing.Line, at the prices they were ordered at."""
    rows = list(models.OrderItem.select().where(models.OrderItem.order == order.id)
                .order_by(models.OrderItem.id))
    mods = {}
    for mod in models.OrderItemModifier.select().where(
            models.OrderItemModifier.order_item.in_([r.id for r in rows])):
        mods.setdefault(mod.order_item_id, []).append(
            pricing.Modifier(mod.modifier_option_id, mod.name, mod.price))
    prices = pricing.book(order.branch_id)
    lines = []
    for row in rows:
        rates = [pricing.Rate(t.get("tax_id"), t["name"], Decimal(str(t["percent"])))
                 for t in row.tax_breakup or []]
        if not rates and row.menu_item_id in prices.items:
            rates = list(prices.items[row.menu_item_id].taxes)
        line = pricing.Line(row.menu_item_id, row.variation_id, row.name, row.quantity,
                            row.price, modifiers=mods.get(row.id, []), taxes=rates, note=row.note)
        line.row_id = row.id
        lines.append(line)
    return lines


def _order_type_of(order):
    return next((t for t in pricing.book(order.branch_id).order_types
                 if t.id == order.order_type_id), None)


def _kept_charges(order):
    """The charges an existing order carries, re-applied as they are defined now."""
    rows = list(models.OrderCharge.select(models.OrderCharge.charge)
                .where(models.OrderCharge.order == order.id))
    requested = [r.charge_id for r in rows if r.charge_id] if rows else None
    try:
        return pricing.applicable_charges(order.branch_id, _order_type_of(order), requested)
    except ValidationFailed:      # a charge no longer applies: keep the ones that do
        return [c for c in pricing.applicable_charges(order.branch_id, _order_type_of(order))
                if c.id in (requested or [])]


def _price(order, lines, charges):
    prices = pricing.book(order.branch_id)
    order_type = _order_type_of(order)
    is_delivery = order_type is not None and order_type.type == "delivery"
    priced = pricing.price(
        lines, tax_mode=prices.tax_mode, tax_inclusive=prices.tax_inclusive,
        order_taxes=prices.restaurant_taxes,
        discount_type=order.discount_type, discount_value=order.discount_value,
        charges=charges, delivery_fee=order.delivery_fee if is_delivery else ZERO,
        tip_amount=order.tip_amount)
    order.sub_total = priced.sub_total
    order.discount_type = priced.discount_type
    order.discount_value = priced.discount_value
    order.discount_amount = priced.discount_amount
    order.tax_total = priced.tax_total
    order.charges_total = priced.charges_total
    order.delivery_fee = priced.delivery_fee
    order.total = priced.total
    if order.status in ("paid", "payment_due"):
        order.status = "paid" if order.amount_paid >= order.total else "payment_due"
    return priced


def _total_rows(order, priced, now):
    taxes = [models.new_row(models.OrderTax, order=order.id, tax=rate.id, name=rate.name,
                            percent=rate.percent, amount=amount, created_at=now, updated_at=now)
             for rate, amount in priced.taxes]
    charges = [models.new_row(models.OrderCharge, order=order.id, charge=charge.id,
                              name=charge.name, amount=amount, created_at=now, updated_at=now)
               for charge, amount in priced.charges]
    return taxes, charges


def reprice(order, lines=None, *, charges=None, now=None):
    """Price an existing order's lines again and store every amount."""
    now = now or models.utcnow()
    lines = _stored_lines(order) if lines is None else lines
    priced = _price(order, lines, _kept_charges(order) if charges is None else charges)
    per_item = pricing.book(order.branch_id).tax_mode == "item"
    for line in priced.lines:
        models.OrderItem.update(
            modifiers_total=line.modifiers_total, amount=line.amount,
            tax_amount=line.tax_amount, tax_percentage=line.tax_percentage,
            tax_breakup=_breakup(line, per_item)).where(
            models.OrderItem.id == line.row_id).execute()
    models.OrderTax.delete().where(models.OrderTax.order == order.id).execute()
    models.OrderCharge.delete().where(models.OrderCharge.order == order.id).execute()
    taxes, charges = _total_rows(order, priced, now)
    models.insert_all(taxes)
    models.insert_all(charges)
    order.save()
    return priced


# --- Operations ------------------------------------------------------------------------

# Read for every order a client sends with its own uuid: built once (database.Prepared).
_BY_UUID = Prepared(lambda: models.Order.select().where(models.Order.uuid == slot("uuid")))


def _existing_by_uuid(actor, uuid):
    if not uuid:
        return None
    order = _BY_UUID.first(models.Order, uuid=uuid)
    if order is not None and order.branch_id != actor.branch_id:
        raise Conflict("This order id is already used by another order.")
    return order


def _occupy_table(order, table, actor, now):
    """Lock the table for an order that goes to the kitchen or is billed."""
    lock = tables.check_not_locked_by_other(table, actor, now)
    other = tables.open_order_on(table, exclude_order_id=order.id)
    if other is not None:
        raise Conflict("Table %s already has an open order (%s); add items to it instead."
                       % (table.table_code, other.formatted_order_number), order_id=other.id)
    tables.hold_lock(table, actor, now, lock)


def create_order(actor, body, now, placed_via="pos"):
    """Create an order from the contract's body; answers the contract's shape."""
    permissions.require(actor, "order.create")
    with database.atomic():
        uuid = body.uuid or body.client_order_uuid
        existing = _existing_by_uuid(actor, uuid)
        if existing is not None:
            return created_answer(existing, [k.id for k in existing.kots], replay=True)

        branch = pricing.book(actor.branch_id).branch
        order_type = resolve_order_type(branch.id, body.order_type, body.order_type_id)
        action = first_action(body.actions)
        lines = [pricing.resolve_line(branch.id, order_type.id, item.model_dump(), "items.%d" % i)
                 for i, item in enumerate(body.items)]

        table = None
        if order_type.type == "dine_in":
            if body.table_id is None and action in ("kot", "bill"):
                raise ValidationFailed.field("table_id",
                                             "The table id field is required for dine-in.")
            table = (tables.get_table(branch.id, body.table_id, "table_id")
                     if body.table_id is not None else None)
        customer = _customer_for(actor, body)
        address = None
        if body.customer_address_id is not None:
            address = customers.address_of(customer, body.customer_address_id)
            if address is None:
                raise ValidationFailed.field("customer_address_id",
                                             "The selected customer address id is invalid.")
        number, formatted = numbering.next_order_number(branch, now, consume=True)
        status, order_status = ACTIONS[action]
        discount_type = body.discount_type
        discount_value = body.discount_value
        if not discount_type and body.discount_amount:
            discount_type, discount_value = "fixed", body.discount_amount
        order = models.new_row(
            models.Order, branch=branch.id, uuid=uuid, order_number=number,
            formatted_order_number=formatted,
            status=status, order_status=order_status, placed_via=placed_via,
            order_type=order_type.id, order_type_name=order_type.order_type_name,
            table=table.id if table else None, customer=customer.id if customer else None,
            waiter=_user_in_branch(branch.id, body.waiter_id, "waiter_id") or actor.user_id,
            created_by=actor.user_id, pax=body.pax, date_time=now,
            delivery_address=body.delivery_address or (address.address if address else None),
            customer_address=address.id if address else None,
            delivery_time=body.delivery_time,
            delivery_executive=_branch_row(models.DeliveryExecutive, branch.id,
                                           body.delivery_executive_id, "delivery_executive_id",
                                           "The selected delivery executive id is invalid."),
            delivery_app=_branch_row(models.DeliveryPlatform, branch.id, body.delivery_app_id,
                                     "delivery_app_id", "The selected delivery app id is invalid."),
            discount_type=discount_type, discount_value=discount_value or ZERO,
            delivery_fee=to_money(body.delivery_fee or 0),
            tip_amount=to_money(body.tip_amount or 0),
            note=body.note, created_at=now, updated_at=now)
        priced = _price(order, lines, pricing.applicable_charges(
            branch.id, order_type, body.extra_charges))
        items, modifiers = _line_rows(order, priced.lines, now)
        taxes, charges = _total_rows(order, priced, now)
        # The table's lock before the kitchen's numbers, in the order every other route
        # takes them (two transactions taking them crosswise could deadlock).
        if table is not None and action in ("kot", "bill"):
            _occupy_table(order, table, actor, now)
        kots, kot_items = (tickets.new_order_tickets(order, items, now) if action == "kot"
                           else ([], []))
        for rows in ([order], items, modifiers, taxes, charges, kots, kot_items):
            models.insert_all(rows)
        tickets.announce(kots)
        parts = Parts(order, items=items, modifiers=modifiers, taxes=taxes, charges=charges,
                       customer=customer, table=table)
        events.order_event("order.created", order)
        return created_answer(order, [k.id for k in kots], parts=parts)


def _customer_for(actor, body):
    if body.customer_id is not None:
        return customers.get_customer(actor, body.customer_id, "customer_id")
    c = body.customer
    if c is None or not (c.phone or c.email or c.name):
        return None
    if not (c.phone or c.email):
        return models.Customer.create(restaurant=actor.restaurant_id, name=c.name)
    return customers.upsert(actor.restaurant_id, name=c.name, phone=c.phone,
                            phone_code=c.phone_code, email=c.email, match=("phone", "email"))


def _require_open(order):
    if order.status in CLOSED:
        raise APIError("Order %s is %s and cannot be changed."
                       % (order.formatted_order_number,
                          "paid" if order.status == "paid" else "cancelled"), status=400)


def apply_action(order, action, actor, now):
    """Move an existing order by an action (kot, bill, cancel, draft)."""
    if action == "cancel":
        return cancel(order, actor, now)
    _require_open(order)
    table = models.Table.get_or_none(models.Table.id == order.table_id) if order.table_id else None
    kots = []
    if action in ("kot", "bill") and table is not None:
        _occupy_table(order, table, actor, now)
    if action == "kot":
        kots = tickets.send_to_kitchen(order, now)
        if order.status == "draft":
            order.status, order.order_status = "kot", "confirmed"
    elif action == "bill":
        if order.status in ("draft", "kot"):
            order.status = "billed"
        if order.order_status == "placed":
            order.order_status = "confirmed"
    order.save()
    return kots


def cancel(order, actor, now, *, by_kitchen=False):
    """Cancel an order, its open KOTs, and free its table; cash paid on it is given
    back (a refund from the canceller's open cash drawer). ``by_kitchen``: the
    kitchen cancelled everything on it (a chef may do that; not a paid order)."""
    if order.status == "canceled":
        return []
    if order.status == "paid" or order.amount_paid > 0:
        permissions.require(actor, "order.cancel_paid")
    if not by_kitchen:
        permissions.require(actor, "order.cancel")
    order.status, order.order_status = "canceled", "cancelled"
    order.updated_at = now
    order.save()
    if order.amount_paid > 0:
        cash_register.record_refund(actor, order, now)
    tickets.cancel_order_kots(order)
    if order.table_id:
        tables.free_table(order.table_id, exclude_order_id=order.id)
    if order.delivery_executive_id:
        rider_states.free(order.delivery_executive_id, order.id, now)
    return []


def update_order(actor, order_id, body, now):
    """PUT /pos/orders/{id}: table, customer, waiter, pax, note, discount, action."""
    permissions.require(actor, "order.update")
    with database.atomic():
        order = get_order(actor, order_id)
        fields = body.model_fields_set
        kots = []
        if fields - {"actions"}:
            _require_open(order)
        if "table_id" in fields and body.table_id != order.table_id:
            old = order.table_id
            table = (tables.get_table(actor.branch_id, body.table_id, "table_id")
                     if body.table_id is not None else None)
            order.table = table.id if table else None
            if table is not None and order.status in tables.OPEN_STATUSES:
                _occupy_table(order, table, actor, now)
            if old:
                tables.free_table(old, exclude_order_id=order.id)
        elif order.table_id and order.status in tables.OPEN_STATUSES:
            table = models.Table.get_by_id(order.table_id)
            tables.check_not_locked_by_other(table, actor, now)
        if "customer_id" in fields or "customer" in fields:
            customer = _customer_for(actor, body)
            order.customer = customer.id if customer else None
        if "waiter_id" in fields:
            order.waiter = _user_in_branch(actor.branch_id, body.waiter_id, "waiter_id")
        for name in ("pax", "note", "delivery_address", "delivery_time"):
            if name in fields:
                setattr(order, name, getattr(body, name))
        repricing = bool(fields & {"discount_type", "discount_value", "delivery_fee"})
        if "discount_type" in fields or "discount_value" in fields:
            order.discount_type = body.discount_type
            order.discount_value = body.discount_value or 0
        if "delivery_fee" in fields:
            order.delivery_fee = body.delivery_fee or 0
        order.updated_at = now
        order.save()
        if repricing:
            reprice(order)
        if body.actions:
            action = first_action(body.actions)
            kots = apply_action(order, action, actor, now)
        order = models.Order.get_by_id(order.id)
        events.order_event("order.updated", order)
        shaped = order_shape(order)
        return {"success": True, "message": "Order updated.", "order": shaped,
                "kot_ids": [k.id for k in kots], "cart": shaped["cart"]}


def update_items(actor, order_id, body, now):
    """PUT /pos/orders/{id}/items: add, update and remove lines; re-price the whole
    order; send added quantities to the kitchen when the order is already there.
    Removing a line the kitchen has had cancels it on its KOTs (Manage KOT)."""
    permissions.require(actor, "order.update")
    with database.atomic():
        order = get_order(actor, order_id)
        _require_open(order)
        if order.table_id and order.status in tables.OPEN_STATUSES:
            tables.take_lock(models.Table.get_by_id(order.table_id), actor, now)
        added, updated, removed = [], [], []
        for i, change in enumerate(body.items):
            field = "items.%d" % i
            if change.action == "add":
                line = pricing.resolve_line(order.branch_id, order.order_type_id,
                                            dict(change.model_dump(),
                                                 quantity=change.quantity or 1), field)
                rows, mods = _line_rows(order, [line], now)
                models.insert_all(rows)
                models.insert_all(mods)
                added.append(rows[0].id)
                continue
            row = models.OrderItem.get_or_none(
                (models.OrderItem.id == change.order_item_id) &
                (models.OrderItem.order == order.id))
            if row is None:
                raise ValidationFailed.field(field + ".order_item_id",
                                             "The selected order item id is invalid.")
            if change.action == "remove":
                if row.kot_quantity:      # sent: cancelled in the kitchen, not forgotten
                    permissions.require(actor, "kot.cancel")
                    tickets.withdraw_line(row, actor.user_id, now, change.reason)
                models.OrderItemModifier.delete().where(
                    models.OrderItemModifier.order_item == row.id).execute()
                row.delete_instance()
                removed.append(row.id)
            else:
                if change.quantity is not None:
                    tickets.require_kitchen_quantity_kept(row, change.quantity)
                    row.quantity = change.quantity
                if "note" in change.model_fields_set:
                    row.note = change.note
                row.save()
                updated.append(row.id)
        if not models.OrderItem.select().where(models.OrderItem.order == order.id).exists():
            raise ValidationFailed.field("items", "An order needs at least one item; "
                                                  "cancel it instead.")
        reprice(order)
        kots = []
        if order.status in ("kot", "billed", "payment_due") and \
                models.Kot.select().where(models.Kot.order == order.id).exists():
            kots = tickets.send_to_kitchen(order, now)
        order = models.Order.get_by_id(order.id)
        events.order_event("order.updated", order)
        return {"success": True, "message": "Order items updated.", "data": {
            "order_id": order.id, "added_items": added, "updated_items": updated,
            "removed_items": removed, "sub_total": order.sub_total, "total": order.total,
            "items_count": models.OrderItem.select().where(
                models.OrderItem.order == order.id).count(),
            "kot_ids": [k.id for k in kots]}}


def set_status(actor, order_id, status, now):
    """POST /pos/orders/{id}/status: move order_status within its vocabulary."""
    permissions.require(actor, "order.status")
    value = str(status or "").strip().lower()
    if value == "canceled":
        value = "cancelled"
    if value not in ORDER_STATUSES:
        raise ValidationFailed.field("status", "The selected status is invalid.",
                                     allowed=ORDER_STATUSES)
    with database.atomic():
        order = get_order(actor, order_id)
        if value == "cancelled":
            cancel(order, actor, now)
        else:
            if order.status == "canceled":
                raise Unprocessable("Order %s is cancelled." % order.formatted_order_number)
            order.order_status = value
            if value == "delivered":
                settle_delivered(order)
                if order.delivery_executive_id:
                    rider_states.free(order.delivery_executive_id, order.id, now)
            order.updated_at = now
            order.save()
        events.order_event("order.updated", order)
        return {"success": True, "order_id": order.id, "status": order.order_status,
                "payment_status": order.status}


def settle_delivered(order):
    """A delivered order paid in full is ``delivered`` in the legacy status too."""
    if order.status != "paid" and order.amount_paid >= order.total:
        order.status = "delivered"


def send_kot(actor, order_id, body, now):
    """POST /pos/orders/{id}/kot: a KOT for what the kitchen has not had yet."""
    permissions.require(actor, "kot.update")
    with database.atomic():
        order = get_order(actor, order_id)
        _require_open(order)
        if body.kitchen_place_id is not None:
            _branch_row(models.KotPlace, order.branch_id, body.kitchen_place_id,
                        "kitchen_place_id", "The selected kitchen place id is invalid.")
        if order.table_id:
            _occupy_table(order, models.Table.get_by_id(order.table_id), actor, now)
        kots = tickets.send_to_kitchen(order, now, order_item_ids=body.order_item_ids,
                                       note=body.note, kitchen_place_id=body.kitchen_place_id)
        if not kots:
            raise Unprocessable("Nothing new to send to the kitchen for this order.")
        if order.status == "draft":
            order.status, order.order_status = "kot", "confirmed"
            order.save()
        events.order_event("order.updated", order)
        kot = kots[0]
        return {"success": True, "message": "KOT created.", "data": {
            "kot_id": kot.id, "kot_number": kot.kot_number, "token_number": kot.token_number,
            "order_id": order.id,
            "items_count": models.KotItem.select().where(models.KotItem.kot == kot.id).count(),
            "kot_ids": [k.id for k in kots]}}


def show(actor, order_id):
    return order_shape(get_order(actor, order_id))


def list_orders(actor, filters, path):
    """GET /pos/orders: the branch's orders, newest first (``orders_page``)."""
    return orders_page(models.Order.select().where(models.Order.branch == actor.branch_id),
                       filters, path)


def orders_page(query, filters, path):
    """A Laravel paginator of the orders of ``query`` (a select of orders), newest
    first, filtered by status, date_from, date_to, customer_id and search; per_page
    (or limit) up to MAX_PAGE_SIZE."""
    order = models.Order
    if filters.get("status"):
        query = query.where(order.status == filters["status"])
    if filters.get("date_from"):
        query = query.where(order.date_time >= filters["date_from"])
    if filters.get("date_to"):
        query = query.where(order.date_time < filters["date_to"])
    if filters.get("customer_id"):
        query = query.where(order.customer == filters["customer_id"])
    if filters.get("search"):
        term = "%%%s%%" % filters["search"]
        query = (query.join(models.Customer, peewee.JOIN.LEFT_OUTER, on=(order.customer ==
                                                                   models.Customer.id))
                 .where(order.formatted_order_number.contains(filters["search"]) |
                        models.Customer.name ** term | models.Customer.phone ** term))
    query = query.order_by(order.date_time.desc(), order.id.desc())
    per_page = min(MAX_PAGE_SIZE, filters.get("limit") or filters.get("per_page") or PAGE_SIZE)
    return paginate(query, filters.get("page", 1), order_shape, path, per_page)
