"""Payments: every payment recorded, amount_paid accumulated, nothing taken twice.

``pay`` applies a payment to what is due. Cash may be more than is due (the
difference is change given back); any other method may not. The order becomes
``payment_due`` while money is owed and ``paid`` when the total is covered,
which frees its table. Split payments are parts of the bill agreed in advance;
a paid split is a payment. Cash taken goes into the payer's open cash drawer
session, in the same transaction (``protocol.cash_register``). Retries are made safe by Idempotency-Key
(``protocol.idempotency``) at the handler.
"""

from decimal import Decimal

from . import cash_register, events, models, orders, permissions, tables
from .branches import within_local_days
from .database import database
from .errors import Unprocessable, ValidationFailed
from .money import ZERO, to_money
from .pages import PAGE_SIZE, paginate

PAY_METHODS = ["cash", "card", "wallet", "other", "upi", "bank_transfer", "due", "stripe",
               "razorpay"]
SPLIT_METHODS = ["cash", "upi", "card", "bank_transfer", "due", "stripe", "razorpay"]


def amount_due(order):
    return max(ZERO, order.total - order.amount_paid)


def _payable(order):
    if order.status == "canceled":
        raise Unprocessable("A cancelled order cannot be paid.")
    due = amount_due(order)
    if due <= 0:
        raise Unprocessable("Order %s is already paid." % order.formatted_order_number)
    return due


def _record(order, actor, method, applied, tendered, now, split=None):
    payment = models.Payment.create(
        branch=order.branch_id, order=order.id, split_order=split.id if split else None,
        payment_method=method, amount=applied, tendered=tendered,
        change_given=tendered - applied, created_by=actor.user_id, created_at=now)
    cash_register.record_payment(actor, payment, order, now)
    order.amount_paid = order.amount_paid + applied
    order.status = "paid" if order.amount_paid >= order.total else "payment_due"
    order.updated_at = now
    order.save()
    if order.status == "paid" and order.table_id:
        tables.free_table(order.table_id, exclude_order_id=order.id)
    events.order_event("order.paid" if order.status == "paid" else "order.updated", order)
    return payment


def pay(actor, order_id, amount, method, now):
    """POST /pos/orders/{id}/pay: amount None pays what is still due."""
    permissions.require(actor, "payment.take")
    method = (method or "cash").lower()
    if method not in PAY_METHODS:
        raise ValidationFailed.field("method", "The selected method is invalid.",
                                     allowed=PAY_METHODS)
    with database.atomic():
        order = orders.get_order(actor, order_id)
        due = _payable(order)
        tendered = due if amount is None else to_money(amount)
        if tendered <= 0:
            raise ValidationFailed.field("amount", "The amount field must be greater than 0.")
        if tendered > due and method != "cash":
            raise ValidationFailed.field(
                "amount", "The amount is more than the %s still due; only cash can be "
                          "overpaid (as change)." % due)
        applied = min(tendered, due)
        payment = _record(order, actor, method, applied, tendered, now)
        return {"success": True, "order_id": order.id, "status": order.status,
                "payment_id": payment.id, "amount": applied, "change_given":
                payment.change_given, "amount_paid": order.amount_paid,
                "amount_due": amount_due(order), "total": order.total}


def _split_amount_for_items(order, items):
    lines = {r.id: r for r in models.OrderItem.select().where(models.OrderItem.order == order.id)}
    share = ZERO
    for i, entry in enumerate(items):
        line = lines.get(entry.order_item_id)
        quantity = entry.quantity if entry.quantity is not None else (line.quantity if line else 0)
        if line is None or quantity > line.quantity:
            raise ValidationFailed.field("items.%d.order_item_id" % i,
                                         "The selected order item is invalid.")
        share += line.amount * quantity / line.quantity
    if order.sub_total <= 0:
        return ZERO
    return to_money(share * order.total / order.sub_total)


def split(actor, order_id, body, now):
    """POST /pos/orders/{id}/split-payments: a part of the bill, paid now or later."""
    permissions.require(actor, "payment.take")
    with database.atomic():
        order = orders.get_order(actor, order_id)
        due = _payable(order)
        if body.amount is not None:
            amount = to_money(body.amount)
        elif body.items:
            amount = _split_amount_for_items(order, body.items)
        else:
            raise ValidationFailed.field("amount", "The amount field is required.")
        pending = sum((s.amount for s in models.SplitOrder.select().where(
            (models.SplitOrder.order == order.id) & (models.SplitOrder.status == "pending"))),
            ZERO)
        if amount < Decimal("0.01") or amount > due - pending:
            raise ValidationFailed.field(
                "amount", "The splits may not exceed what is due (%s still open)."
                % max(ZERO, due - pending))
        split_row = models.SplitOrder.create(
            order=order.id, amount=amount, payment_method=body.payment_method,
            status=body.status,
            items=[i.model_dump() for i in body.items] if body.items else None)
        if body.status == "paid":
            _record(order, actor, body.payment_method, amount, amount, now, split=split_row)
        return {"success": True, "order_id": order.id, "split_order_id": split_row.id,
                "amount": amount, "payment_method": body.payment_method,
                "status": split_row.status, "order_status": order.status,
                "amount_due": amount_due(order)}


def tip(actor, order_id, amount, note, now):
    """POST /pos/orders/{id}/tip: set the tip; it is added to what is due."""
    permissions.require(actor, "payment.take")
    with database.atomic():
        order = orders.get_order(actor, order_id)
        if order.status == "canceled":
            raise Unprocessable("A cancelled order cannot take a tip.")
        order.tip_amount = to_money(amount)
        order.tip_note = note
        if order.status == "paid":
            order.status = "payment_due"
        orders.reprice(order)
        events.order_event("order.updated", order)
        return {"success": True, "order_id": order.id, "tip_amount": order.tip_amount,
                "total": order.total, "amount_due": amount_due(order), "status": order.status}


# --- Reading ---------------------------------------------------------------------------

def payment_shape(payment):
    """A payment as head office reads it (``payments_page``)."""
    return {
        "id": payment.id, "branch_id": payment.branch_id, "order_id": payment.order_id,
        "order_number": payment.order_number, "order_status": payment.order_status,
        "split_order_id": payment.split_order_id, "payment_method": payment.payment_method,
        "amount": payment.amount, "tendered": payment.tendered,
        "change_given": payment.change_given, "created_by": payment.created_by_id,
        "created_at": payment.created_at,
    }


def payments_page(branch_rows, filters, path):
    """A Laravel paginator of the payments of ``branch_rows``, newest first; filters
    payment_method, date_from and date_to (local YYYY-MM-DD, inclusive, each branch
    in its own time zone), page, per_page up to orders.MAX_PAGE_SIZE."""
    payment, order = models.Payment, models.Order
    query = (payment.select(payment, order.formatted_order_number.alias("order_number"),
                            order.status.alias("order_status"))
             .join(order, on=(payment.order == order.id))
             .where(within_local_days(payment.branch, payment.created_at, branch_rows,
                                      filters.get("date_from"), filters.get("date_to"))))
    if filters.get("payment_method"):
        query = query.where(payment.payment_method == filters["payment_method"])
    query = query.order_by(payment.created_at.desc(), payment.id.desc()).objects()
    per_page = min(orders.MAX_PAGE_SIZE, filters.get("per_page") or PAGE_SIZE)
    return paginate(query, filters.get("page", 1), payment_shape, path, per_page)
