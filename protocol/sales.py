"""Sales by branch and day: the figures head office reads of each branch's days.

A day is the branch's own local calendar day (protocol/branches.py): an order
counts on the local day of its ``date_time``, a payment on the local day it was
taken. Every figure is an exact Decimal sum of the stored amounts:

- ``orders``: the day's orders that are neither drafts nor cancelled (sales);
- ``gross``: their sub-totals (lines before any discount); ``discounts``: their
  discounts; ``net``: gross less discounts;
- ``tax``, ``charges``, ``delivery_fees``, ``tips``: theirs; ``total``: their totals
  (each order's total is net + tax unless prices include it + charges + delivery
  fee + tip: protocol/pricing.py);
- ``payments``: what was taken that day, by method, on orders not cancelled (a
  cancelled order's cash is given back: protocol/orders.py ``cancel``); ``paid``: its sum;
- ``cancelled``: the day's cancelled orders, and ``cancelled_total`` what they totalled;
- ``drafts``: orders still drafts (not sales yet).

Every day of the range has a row for every branch, a quiet day with zeros.
"""

import datetime

from . import models
from .branches import branch_zone, local_today, to_local, within_local_days
from .errors import ValidationFailed
from .money import ZERO

MAX_DAYS = 92          # the longest range one request covers
AMOUNTS = ("gross", "discounts", "net", "tax", "charges", "delivery_fees", "tips", "total",
           "paid", "cancelled_total")
SALES = ("draft", "canceled")      # statuses that are not sales


def _blank():
    return dict({name: ZERO for name in AMOUNTS}, orders=0, cancelled=0, drafts=0,
                payments={})


def _days(first, last):
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def _range(branch, first, last, now):
    """The branch's local days first..last (each default: the branch's today)."""
    today = local_today(branch, now)
    first, last = first or last or today, last or first or today
    if last < first:
        raise ValidationFailed.field("date_to", "The date to must be a date after or equal "
                                                "to date from.")
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed.field("date_to", "A sales summary covers at most %d days."
                                     % MAX_DAYS)
    return first, last


def _add_order(figures, status, sub_total, discount, tax, charges, fee, tip, total):
    if status == "draft":
        figures["drafts"] += 1
    elif status == "canceled":
        figures["cancelled"] += 1
        figures["cancelled_total"] += total
    else:
        figures["orders"] += 1
        figures["gross"] += sub_total
        figures["discounts"] += discount
        figures["net"] += sub_total - discount
        figures["tax"] += tax
        figures["charges"] += charges
        figures["delivery_fees"] += fee
        figures["tips"] += tip
        figures["total"] += total


def _add_payment(figures, method, amount):
    figures["payments"][method] = figures["payments"].get(method, ZERO) + amount
    figures["paid"] += amount


def daily_sales(branch_rows, first, last, now):
    """{"date_from", "date_to", "data": [a row per branch and local day], "totals"}
    for the local days first..last (None: each branch's today)."""
    rows, zones = {}, {}
    for branch in branch_rows:
        zones[branch.id] = branch_zone(branch)
        start, end = _range(branch, first, last, now)
        for day in _days(start, end):
            rows[branch.id, day] = dict(_blank(), branch_id=branch.id, branch=branch.name,
                                        timezone=str(zones[branch.id]), date=day.isoformat())
        bounds = within_local_days(models.Order.branch, models.Order.date_time, [branch],
                                   start, end)
        paid_bounds = within_local_days(models.Payment.branch, models.Payment.created_at,
                                        [branch], start, end)
        order = models.Order
        for row in order.select(order.date_time, order.status, order.sub_total,
                                order.discount_amount, order.tax_total, order.charges_total,
                                order.delivery_fee, order.tip_amount, order.total).where(bounds):
            day = to_local(row.date_time, zones[branch.id]).date()
            _add_order(rows[branch.id, day], row.status, row.sub_total, row.discount_amount,
                       row.tax_total, row.charges_total, row.delivery_fee, row.tip_amount,
                       row.total)
        payment = models.Payment
        for row in (payment.select(payment.created_at, payment.payment_method, payment.amount)
                    .join(order, on=(payment.order == order.id))
                    .where(paid_bounds & (order.status != "canceled"))):
            day = to_local(row.created_at, zones[branch.id]).date()
            _add_payment(rows[branch.id, day], row.payment_method, row.amount)
    data = [rows[key] for key in sorted(rows, key=lambda key: (key[1], key[0]))]
    totals = _blank()
    for row in data:
        for name in AMOUNTS + ("orders", "cancelled", "drafts"):
            totals[name] += row[name]
        for method, amount in row["payments"].items():
            totals["payments"][method] = totals["payments"].get(method, ZERO) + amount
    days = [row["date"] for row in data]
    return {"success": True, "message": "Sales by branch and day.",
            "date_from": min(days) if days else None, "date_to": max(days) if days else None,
            "data": data, "totals": totals}
