"""Domain operations that may run as a command at the branch's authority.

At the cloud, a write for a branch that an edge runs (a customer-app order, a
head-office cancel) is not made there: the handler's ``write_once`` sends it,
as a command, to the edge, which runs the same function with the same
arguments (sync/commands.py carries it). Such functions are marked
``@commandable``; their arguments travel as JSON: request bodies by their
model, the request's time as "the time it runs", plain values as they are.
A command's author is a user (``commandable``) or, for the rider app's writes,
a rider (``commandable_by_rider``): the edge acts as them, as it would locally.
"""

import datetime
import importlib

import pydantic

from . import models
from .accounts import actor_for
from .errors import Unauthenticated
from .rider_accounts import rider_actor

COMMANDS = {}


def _user_actor(user_id, branch_id):
    user = models.User.get_or_none(models.User.id == user_id)
    if user is None or not user.is_active:
        raise Unauthenticated()
    return actor_for(user, branch_id)


AUTHORS = {"user": _user_actor, "rider": rider_actor}


def commandable(fn, author="user"):
    COMMANDS["%s.%s" % (fn.__module__, fn.__name__)] = fn
    fn.command_kind = "%s.%s" % (fn.__module__, fn.__name__)
    fn.command_author = author
    return fn


def commandable_by_rider(fn):
    return commandable(fn, "rider")


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


def execute(kind, author_id, branch_id, args, now):
    """Run a command here as its author (a user, or a rider) in ``branch_id``; answers
    the function's body (401 when the author is gone or deactivated)."""
    fn = COMMANDS.get(kind)
    if fn is None:
        raise ValueError("unknown command %s" % kind)
    actor = AUTHORS[fn.command_author](author_id, branch_id)
    return fn(actor, *[_decode(arg, now) for arg in args])
