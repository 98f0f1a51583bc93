"""Exact money. Amounts are ``Decimal`` in code and integers in the database.

A money column stores minor units (cents) as an integer, so sums in SQL are
exact on SQLite and PostgreSQL alike; percentages keep four decimals. Rounding
is half-up to the cent, the way a till rounds. Floats never hold money: JSON
numbers from clients are parsed straight to Decimal (see ``protocol.wire``).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import peewee

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MONEY_SCALE = 2
PERCENT_SCALE = 4


def to_money(value):
    """Any number-like value as a Decimal rounded half-up to the cent."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError("not an amount: %r" % (value,)) from None


def percent_of(amount, percent):
    return to_money(Decimal(amount) * Decimal(percent) / 100)


class FixedPointField(peewee.BigIntegerField):
    """A Decimal stored as an integer count of 10**-scale units."""

    def __init__(self, scale=MONEY_SCALE, *args, **kwargs):
        self.scale = scale
        self._unit = Decimal(1).scaleb(-scale)
        super().__init__(*args, **kwargs)

    def db_value(self, value):
        if value is None:
            return None
        if isinstance(value, float):
            value = repr(value)
        quantized = Decimal(value).quantize(self._unit, rounding=ROUND_HALF_UP)
        return int(quantized.scaleb(self.scale))

    def python_value(self, value):
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.scale).quantize(self._unit)


class MoneyField(FixedPointField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", ZERO)
        super().__init__(MONEY_SCALE, *args, **kwargs)


class PercentField(FixedPointField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", Decimal(0))
        super().__init__(PERCENT_SCALE, *args, **kwargs)
