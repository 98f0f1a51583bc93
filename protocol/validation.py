"""Request bodies: pydantic models in, Laravel-style 422 field errors out.

Each route declares the model of its body; ``parse(model, data)`` returns the
validated instance or raises ``ValidationFailed`` with one message per field
worded as Laravel words them ("The email field is required."), which is what
companion apps show to staff. The same models feed the OpenAPI document.
"""

import datetime
from decimal import Decimal
from typing import Annotated, Optional

import email_validator
import pydantic
from pydantic_core import PydanticCustomError

from .errors import ValidationFailed


# Text in a request never holds NUL (the body reader refuses it: protocol/wire.py); the
# document says so on every string (protocol/openapi.py) and every free-form key.
NO_NUL = "^[^\\u0000]*$"


class Body(pydantic.BaseModel):
    """Base of every request body: unknown fields are ignored, known ones checked. The
    document says what an unknown field may hold and still be read past: a plain value
    (every number in a body is bounded where JSON is read, protocol/wire.py). A body's
    validator is built when a request first needs it (``defer_build``): a node serves
    a few of the API's bodies, and building them all at import cost it megabytes."""
    model_config = pydantic.ConfigDict(
        extra="ignore", str_strip_whitespace=True, defer_build=True,
        json_schema_extra={"propertyNames": {"pattern": NO_NUL}, "additionalProperties": {
            "type": ["string", "boolean", "null", "integer"], "pattern": NO_NUL,
            "minimum": -10 ** 18, "maximum": 10 ** 18}})


class Retryable(Body):
    """A body that creates something or takes money. ``uuid``, the client's own id for
    this request (the module's clients send one with every order), makes a retry safe
    without an Idempotency-Key header: the same uuid and body get the first answer."""
    uuid: Optional[str] = pydantic.Field(
        None, min_length=1, max_length=64,
        description="The client's own id of this request: a retry with the same uuid and "
                    "body gets the first answer and changes nothing; the same uuid with "
                    "another body is a 422. The Idempotency-Key header does the same.")


def _check_email(value):
    try:
        email_validator.validate_email(value, check_deliverability=False,
                                        test_environment=True)
    except email_validator.EmailNotValidError:
        raise PydanticCustomError("email", "not a valid email address")
    return value.lower()


Email = Annotated[str, pydantic.AfterValidator(_check_email)]
def amount(minimum, maximum, places=2):
    """An exact amount from ``minimum`` to ``maximum`` with at most ``places`` decimals,
    sent as a JSON number or a string. The document shows the subset a generator can
    trust: whole numbers in range, or strings of the right digits (a float's binary
    digits would not have the right number of places)."""
    minimum, maximum = Decimal(minimum), Decimal(maximum)
    whole = len(str(int(maximum)))
    if str(int(maximum)) != "9" * whole:        # "999" would pass for at most 100
        whole = max(1, whole - 1)
    nonzero = "(?!0+(\\.0+)?$)" if minimum > 0 else ""
    schema = {"anyOf": [
        {"type": "integer", "minimum": max(int(minimum.to_integral_value("ROUND_CEILING")),
                                           1 if minimum > 0 else 0),
         "maximum": int(maximum)},
        {"type": "string", "pattern": "^%s\\d{1,%d}(\\.\\d{1,%d})?$" % (nonzero, whole, places)}]}
    return Annotated[Decimal, pydantic.Field(ge=minimum, le=maximum, decimal_places=places),
                     pydantic.WithJsonSchema(schema)]


Money = amount(0, "9999999999.99")
MAX_ID = 2 ** 53


def _check_id(value):
    if not 1 <= value <= MAX_ID:
        raise PydanticCustomError("id_range", "not an id")
    return value


# An id in a body or a query: every id is below 2**53 (protocol/ids.py), so another
# number is "The selected ... is invalid." (as Laravel's exists rule words it), never
# an out-of-range integer reaching the database.
Id = Annotated[int, pydantic.AfterValidator(_check_id),
               pydantic.WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ID})]


# A calendar day (YYYY-MM-DD, a branch's local day where it filters rows), within the
# years a datetime can hold on either side of it in any time zone.
LocalDate = Annotated[datetime.date, pydantic.Field(
    ge=datetime.date(1970, 1, 1), le=datetime.date(9999, 12, 30)),
    pydantic.WithJsonSchema({"type": "string", "format": "date",
                             "pattern": r"^(19[7-9][0-9]|[2-9][0-9]{3})-"})]


def one_of(values):
    """A string the domain checks against ``values`` itself (in any case where it says so,
    answering 422 with the allowed list); the OpenAPI document lists them as its enum."""
    return Annotated[str, pydantic.WithJsonSchema({"type": "string", "enum": list(values)})]


# Free-form JSON a client may send (a notification's data, a charge): its numbers are
# documented as whole numbers within what the body reader accepts (protocol/wire.py).
_FREE_SCALAR = {"anyOf": [{"type": "string", "pattern": NO_NUL}, {"type": ["boolean", "null"]},
                          {"type": "integer", "minimum": -10 ** 18, "maximum": 10 ** 18}]}
_FREE_VALUE = {"anyOf": [_FREE_SCALAR, {"type": "array", "items": _FREE_SCALAR},
                         {"type": "object", "propertyNames": {"pattern": NO_NUL},
                          "additionalProperties": _FREE_SCALAR}]}
FreeObject = Annotated[dict, pydantic.WithJsonSchema(
    {"type": "object", "propertyNames": {"pattern": NO_NUL}, "additionalProperties": _FREE_VALUE})]


# A required form field: a blank one is dropped before validation ("required"), so the
# document asks for a character that is not a space.
NOT_BLANK = {"pattern": r"^[^\u0000]*[^\s\u0000][^\u0000]*$"}


def _attribute(loc):
    return ".".join(str(part) for part in loc)


def _words(attribute):
    return attribute.replace("_", " ")


_MESSAGES = {
    "missing": "The {attr} field is required.",
    "string_type": "The {attr} field must be a string.",
    "int_type": "The {attr} field must be an integer.",
    "int_parsing": "The {attr} field must be an integer.",
    "int_from_float": "The {attr} field must be an integer.",
    "float_type": "The {attr} field must be a number.",
    "float_parsing": "The {attr} field must be a number.",
    "decimal_type": "The {attr} field must be a number.",
    "decimal_parsing": "The {attr} field must be a number.",
    "finite_number": "The {attr} field must be a number.",
    "decimal_max_digits": "The {attr} field is too large.",
    "decimal_whole_digits": "The {attr} field is too large.",
    "decimal_max_places": "The {attr} field must have at most {decimal_places} decimal places.",
    "bool_type": "The {attr} field must be true or false.",
    "bool_parsing": "The {attr} field must be true or false.",
    "list_type": "The {attr} field must be an array.",
    "dict_type": "The {attr} field must be an object.",
    "model_type": "The {attr} field must be an object.",
    "model_attributes_type": "The {attr} field must be an object.",
    "greater_than_equal": "The {attr} field must be at least {ge}.",
    "greater_than": "The {attr} field must be greater than {gt}.",
    "less_than_equal": "The {attr} field must not be greater than {le}.",
    "less_than": "The {attr} field must be less than {lt}.",
    "string_too_long": "The {attr} field must not be greater than {max_length} characters.",
    "string_too_short": "The {attr} field must be at least {min_length} characters.",
    "too_short": "The {attr} field must have at least {min_length} items.",
    "too_long": "The {attr} field must not have more than {max_length} items.",
    "email": "The {attr} field must be a valid email address.",
    "literal_error": "The selected {attr} is invalid.",
    "id_range": "The selected {attr} is invalid.",
    "enum": "The selected {attr} is invalid.",
    "datetime_parsing": "The {attr} field must be a valid date.",
    "datetime_type": "The {attr} field must be a valid date.",
    "datetime_from_date_parsing": "The {attr} field must be a valid date.",
    "date_parsing": "The {attr} field must be a valid date.",
    "date_from_datetime_parsing": "The {attr} field must be a valid date.",
}


def message_for(error):
    attr = _attribute(error["loc"]) or "body"
    template = _MESSAGES.get(error["type"])
    if template is None:
        if error["type"] == "value_error":
            # Raised by a model's own validator: its text is already a sentence.
            return str(error.get("ctx", {}).get("error", error["msg"]))
        return "The %s field is invalid." % _words(attr)
    ctx = dict(error.get("ctx") or {})
    return template.format(attr=_words(attr), **ctx)


def field_errors(exc):
    errors = {}
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        # Union members append their type name to the location; drop it.
        loc = tuple(p for p in loc if not (isinstance(p, str) and "[" in p))
        error = dict(error, loc=loc)
        errors.setdefault(_attribute(loc) or "body", [])
        message = message_for(error)
        if message not in errors[_attribute(loc) or "body"]:
            errors[_attribute(loc) or "body"].append(message)
    return errors


def parse(model, data):
    if not isinstance(data, dict):
        raise ValidationFailed.field("body", "The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationFailed(field_errors(exc)) from None
