"""Order, KOT and token numbers: per branch, never reused, optionally daily.

Numbers come from ``number_sequences`` rows updated inside the transaction that
uses them, so a rolled-back order gives its number back and a committed one
never shares it. The formatted order number follows the branch's
order-number settings: ``ORD-20260115-001`` or ``Order #157`` when off.
"""

from . import branches, models
from .pricing import book

ORDER, KOT, TOKEN = "order", "kot", "token"


def settings_for(branch):
    return book(branch.id).number_setting


def _period(name, branch, now, daily):
    return branches.local_today(branch, now).isoformat() if daily else ""


def peek(branch, name, now, daily=False):
    seq = models.NumberSequence
    last = (seq.select(seq.last_value)
            .where((seq.branch == branch.id) & (seq.name == name) &
                   (seq.period == _period(name, branch, now, daily))).scalar())
    return (last or 0) + 1


def take(branch, name, now, daily=False):
    """The next number of a sequence, consumed (call inside a transaction)."""
    period = _period(name, branch, now, daily)
    param = models.database.param
    row = models.database.execute_sql(
        "UPDATE number_sequences SET last_value = last_value + 1 WHERE branch_id = {p} "
        "AND name = {p} AND period = {p} RETURNING last_value".format(p=param),
        (branch.id, name, period)).fetchone()
    if row is None:
        models.NumberSequence.create(branch=branch.id, name=name, period=period, last_value=1)
        return 1
    return row[0]


def format_order_number(setting, number, day):
    if not setting.enabled:
        return "Order #%d" % number
    parts = [setting.prefix]
    if setting.include_date:
        fmt = setting.date_format.replace("Y", "%Y").replace("m", "%m").replace("d", "%d")
        parts.append(day.strftime(fmt))
    parts.append(str(number).zfill(max(1, setting.digits)))
    return setting.separator.join(p for p in parts if p)


def next_order_number(branch, now, *, consume):
    """(number, formatted) of the branch's next order; consume=False only looks."""
    setting = settings_for(branch)
    fn = take if consume else peek
    number = fn(branch, ORDER, now, setting.reset_daily)
    return number, format_order_number(setting, number, branches.local_today(branch, now))
