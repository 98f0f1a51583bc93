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

import peewee

from . import models
from .branches import branch_zone, day_bounds, local_today, within_local_days
from .errors import ValidationFailed
from .money import ZERO

MAX_DAYS = 92          # the longest range one request covers
AMOUNTS = ("gross", "discounts", "net", "tax", "charges", "delivery_fees", "tips", "total",
           "paid", "cancelled_total")


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


def _day_of(time_field, zone, days):
    """A SQL expression: the index in ``days`` of the branch's local day that
    ``time_field`` falls on (the rows are already within the first and last)."""
    bounds = [day_bounds(day, zone)[1] for day in days[:-1]]
    if not bounds:
        return peewee.Value(0)
    return peewee.Case(None, [(time_field < end, n) for n, end in enumerate(bounds)],
                       len(bounds))


def _add_orders(figures, status, count, sub_total, discount, tax, charges, fee, tip, total):
    if status == "draft":
        figures["drafts"] += count
    elif status == "canceled":
        figures["cancelled"] += count
        figures["cancelled_total"] += total
    else:
        figures["orders"] += count
        figures["gross"] += sub_total
        figures["discounts"] += discount
        figures["net"] += sub_total - discount
        figures["tax"] += tax
        figures["charges"] += charges
        figures["delivery_fees"] += fee
        figures["tips"] += tip
        figures["total"] += total


def _add_payments(figures, method, amount):
    figures["payments"][method] = figures["payments"].get(method, ZERO) + amount
    figures["paid"] += amount


def _branch_days(branch, days):
    """[figures of each of ``days``] of one branch: summed by the database, in
    integer minor units (exact), a row per day and status, and per day and method,
    which the columns' own conversion makes Decimal."""
    zone = branch_zone(branch)
    figures = [_blank() for _ in days]
    order, payment = models.Order, models.Payment
    day = _day_of(order.date_time, zone, days).alias("day")
    summed = (order.sub_total, order.discount_amount, order.tax_total, order.charges_total,
              order.delivery_fee, order.tip_amount, order.total)
    for row in (order.select(day, order.status, peewee.fn.COUNT(order.id),
                             *(peewee.fn.SUM(field) for field in summed))
                .where(within_local_days(order.branch, order.date_time, [branch],
                                         days[0], days[-1]))
                .group_by(peewee.SQL("1"), order.status).tuples()):
        _add_orders(figures[row[0]], row[1], row[2],
                    *(field.python_value(value) for field, value in zip(summed, row[3:])))
    paid_day = _day_of(payment.created_at, zone, days).alias("day")
    for n, method, amount in (
            payment.select(paid_day, payment.payment_method,
                           peewee.fn.SUM(payment.amount))
            .join(order, on=(payment.order == order.id))
            .where(within_local_days(payment.branch, payment.created_at, [branch],
                                     days[0], days[-1]) & (order.status != "canceled"))
            .group_by(peewee.SQL("1"), payment.payment_method).tuples()):
        _add_payments(figures[n], method, payment.amount.python_value(amount))
    return figures


def daily_sales(branch_rows, first, last, now):
    """{"date_from", "date_to", "data": [a row per branch and local day], "totals"}
    for the local days first..last (None: each branch's today)."""
    rows = {}
    for branch in branch_rows:
        days = _days(*_range(branch, first, last, now))
        for day, figures in zip(days, _branch_days(branch, days)):
            rows[branch.id, day] = dict(figures, branch_id=branch.id, branch=branch.name,
                                        timezone=str(branch_zone(branch)),
                                        date=day.isoformat())
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
