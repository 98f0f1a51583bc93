"""JSON on the wire: numbers in become Decimal, Decimal and datetimes go out.

Money never passes through a float: request bodies are parsed with
``parse_float=Decimal``; on the way out a Decimal is written as a JSON number
with its exact digits (``15.50``), which every JSON client reads as a number.
"""

import datetime
import decimal
import json


class _Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, decimal.Decimal):
            return _DecimalLiteral(o)
        if isinstance(o, datetime.datetime):
            if o.tzinfo is None:
                o = o.replace(tzinfo=datetime.timezone.utc)
            return o.isoformat().replace("+00:00", "Z")
        if isinstance(o, datetime.date):
            return o.isoformat()
        if isinstance(o, (set, frozenset)):
            return sorted(o)
        return super().default(o)


class _DecimalLiteral(float):
    """A float subclass whose repr is the Decimal's exact digits.

    json's C encoder writes floats with float.__repr__, so the literal is
    formatted here, before the encoder sees it.
    """

    def __new__(cls, value):
        self = super().__new__(cls, value)
        self._text = format(value, "f")
        return self

    def __repr__(self):
        return self._text


def dumps(obj):
    # The pure-Python encoder honours _DecimalLiteral.__repr__; c_make_encoder
    # would format the float itself, so it is switched off for this encoder.
    return _ENCODER.encode(obj)


class _ExactEncoder(_Encoder):
    def iterencode(self, o, _one_shot=False):
        return json.encoder._make_iterencode(
            {} if self.check_circular else None, self.default,
            json.encoder.encode_basestring_ascii if self.ensure_ascii else json.encoder.encode_basestring,
            self.indent, repr, self.key_separator, self.item_separator,
            self.sort_keys, self.skipkeys, _one_shot)(o, 0)


_ENCODER = _ExactEncoder(ensure_ascii=False, separators=(",", ":"))


def _reject_constant(name):
    raise ValueError("%s is not a number JSON allows" % name)


def loads(text):
    return json.loads(text, parse_float=decimal.Decimal, parse_constant=_reject_constant)
