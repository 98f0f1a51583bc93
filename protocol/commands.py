"""Domain operations run as a command at the branch's authority.

At the cloud, a write for a branch that an edge runs is not made there when
sync/writes.py says it is the branch's own: the handler's ``write_once`` sends
it, as a command, to the edge, which runs the same function with the same
arguments (sync/commands.py carries it). The arguments travel as JSON: request
bodies by their model, the request's time as "the time it runs", plain values
as they are; with them goes the request (method, path, fingerprint and
Idempotency-Key), so the edge keeps the same idempotency record a request made
to it directly would have.
"""

import datetime
import importlib

import pydantic

from . import idempotency


def kind_of(fn):
    """The name a command carries for domain function fn."""
    return "%s.%s" % (fn.__module__, fn.__name__)


def encode(args):
    encoded = []
    for arg in args:
        if isinstance(arg, pydantic.BaseModel):
            cls = type(arg)
            encoded.append({"$model": "%s:%s" % (cls.__module__, cls.__qualname__),
                            "data": arg.model_dump(mode="json", exclude_unset=True)})
        elif isinstance(arg, datetime.datetime):
            encoded.append({"$now": True})
        else:
            encoded.append(arg)
    return encoded


def _decode(arg, now):
    if isinstance(arg, dict) and arg.get("$now"):
        return now
    if isinstance(arg, dict) and "$model" in arg:
        module, _, name = arg["$model"].partition(":")
        if not module.startswith("protocol."):
            raise ValueError("not a protocol model: %s" % arg["$model"])
        cls = getattr(importlib.import_module(module), name)
        return cls.model_validate(arg["data"])
    return arg


def payload(args, request=None):
    """A command's payload: its encoded arguments, and the request they came from
    ({"method", "path", "fingerprint", "key"}) when it carried an Idempotency-Key."""
    return {"args": encode(args), "request": request}


def execute(fn, actor, payload, status, now):
    """(status, body) of fn run here as ``actor`` (a user's Actor, or a rider's:
    protocol/rider_accounts.py); under the request's Idempotency-Key, a request already
    answered here gets that answer."""
    if isinstance(payload, list):              # sent by a cloud older than "request"
        payload = {"args": payload, "request": None}
    args = [_decode(arg, now) for arg in payload["args"]]
    request = payload.get("request")
    if not request:
        return status, fn(actor, *args)
    return idempotency.once(actor.user_id, request["key"], request["method"], request["path"],
                            request["fingerprint"], fn, actor, *args, status=status)
