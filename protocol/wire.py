"""JSON on the wire: numbers in become Decimal, Decimal and datetimes go out.

Money never passes through a float in our arithmetic: request bodies are parsed
with ``parse_float=Decimal``. Every number parsed is bounded here, the one place
JSON is read: a whole number beyond 64 bits, or a decimal beyond 10**18 or with
more than 30 decimal places (``1e999999999`` would take minutes to turn into an
integer), is ``NumberOutOfRange``, which a handler answers with a 422. On the way out a Decimal amount is written as a
JSON number with the same digits (``63.36``): amounts have at most 15
significant digits, which a double's shortest representation reproduces
exactly, and every client reads them as numbers. Datetimes are UTC, ``...Z``.
"""

import decimal
import json
import re

import orjson

_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def _default(o):
    if isinstance(o, decimal.Decimal):
        if not o.is_finite():
            raise TypeError("not a finite number")
        return float(o)
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError("cannot serialise %s" % type(o).__name__)


def amount(value):
    """A Decimal amount (or None) as the float ``dumps`` writes for it: for shapes
    answered often, which orjson then writes without a call to ``_default`` per amount
    (an order's answer holds 75: its lines, charges and taxes are in the order, in its
    cart, and in the answer's cart)."""
    return None if value is None else float(value)


def dumps_bytes(obj):
    return orjson.dumps(obj, default=_default, option=_OPTIONS)


def dumps(obj):
    return dumps_bytes(obj).decode("utf-8")


def _reject_constant(name):
    raise ValueError("%s is not a number JSON allows" % name)


class NumberOutOfRange(ValueError):
    """A number no column or amount can hold (see the module's docstring)."""


MAX_ADJUSTED_EXPONENT = 18        # below 10**19
MIN_ADJUSTED_EXPONENT = -30       # 30 decimal places


def _bounded_int(text):
    value = int(text)
    if not -2 ** 63 <= value < 2 ** 63:
        raise NumberOutOfRange(text[:40])
    return value


def _bounded_decimal(text):
    value = decimal.Decimal(text)
    if value and not MIN_ADJUSTED_EXPONENT <= value.adjusted() <= MAX_ADJUSTED_EXPONENT:
        raise NumberOutOfRange(text[:40])
    return value


class TextNotAllowed(ValueError):
    """A string no column should hold: a NUL character, or half of a surrogate pair
    (not text at all; it could be stored but never written out again)."""


# JSON escapes that may spell either: only bodies holding one are walked.
_SUSPECT = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def check_text(value):
    """Raise TextNotAllowed if any string in value (keys too) holds NUL or a lone
    surrogate."""
    if isinstance(value, str):
        if "\x00" in value:
            raise TextNotAllowed("The request must not contain NUL characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise TextNotAllowed("The request holds text that is not valid Unicode.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item)
    elif isinstance(value, list):
        for item in value:
            check_text(item)


def _whole_numbers_only(value):
    """Whether every number in a parsed value is a whole number within 64 bits."""
    for item in (value.values() if type(value) is dict else value):
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -2 ** 63 <= item < 2 ** 63:
                return False
        elif kind is dict or kind is list:
            if not _whole_numbers_only(item):
                return False
        else:
            return False              # a float: read again for its Decimal
    return True


def loads(text):
    """A JSON text (str, or UTF-8 bytes) read with every number bounded and every
    string checked (see the module's docstring)."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    # orjson first (a pushed batch is half a megabyte of rows): an object or array
    # it reads is json's when every number in it is a whole one within bounds;
    # otherwise (a decimal, a number out of range, anything orjson refuses) json
    # reads the text again, its numbers hooked.
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = None
    if type(value) not in (dict, list) or not _whole_numbers_only(value):
        value = json.loads(text, parse_float=_bounded_decimal, parse_int=_bounded_int,
                           parse_constant=_reject_constant)
    if _SUSPECT.search(text):
        check_text(value)
    return value
