"""Domain operations that may run as a command at the branch's authority.

At the cloud, a write for a branch that an edge runs (a customer-app order, a
head-office cancel) is not made there: the handler's ``write_once`` sends it,
as a command, to the edge, which runs the same function with the same
arguments (sync/commands.py carries it). Such functions are marked
``@commandable``; their arguments travel as JSON: request bodies by their
model, the request's time as "the time it runs", plain values as they are.
"""

import datetime
import importlib

import pydantic

from .accounts import actor_for

COMMANDS = {}


def commandable(fn):
    COMMANDS["%s.%s" % (fn.__module__, fn.__name__)] = fn
    fn.command_kind = "%s.%s" % (fn.__module__, fn.__name__)
    return fn


def kind_of(fn):
    return getattr(fn, "command_kind", None)


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


def execute(kind, user, branch_id, args, now):
    """Run a command here as ``user`` of ``branch_id``; answers the function's body."""
    fn = COMMANDS.get(kind)
    if fn is None:
        raise ValueError("unknown command %s" % kind)
    actor = actor_for(user, branch_id)
    return fn(actor, *[_decode(arg, now) for arg in args])
