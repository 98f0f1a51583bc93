"""Who may join which channel, and the signatures that prove it (Pusher's scheme).

A private or presence subscription carries ``auth = "key:" + hex(HMAC-SHA256(secret,
"socket_id:channel_name[:channel_data]"))``, which only a server holding the secret can
make: ``authorize`` makes it for a user the rules below allow, and the hub checks it with
``verify``. The rules, in one place:

- ``private-App.Models.User.{id}``: that user only (their notifications);
- ``private-{kind}.branch.{id}`` and ``presence-{kind}.branch.{id}``: users whose token
  is for that branch (its orders, KOTs, tables, reservations; who is on the floor);
- ``private-orders.{id}``: users of the order's branch;
- ``private-App.Models.DeliveryExecutive.{id}``: that rider only, signed in through the
  rider app (protocol/partner.py), who may join no other channel;
- anything else: nobody. Public channels (no prefix) need no authorisation.

``last_seq`` (an extra auth parameter) asks for what was missed since then: the answer
then carries ``channel_data`` with it, signed like the rest, and the hub replays on
subscribe. Plain clients never send it and see plain Pusher behaviour.
"""

import dataclasses
import hashlib
import hmac
import json
import re

from .. import events, models
from ..errors import Forbidden

CHANNEL_NAME = r"[-a-zA-Z0-9_=@,.;]{1,164}"
_CHANNEL_NAME = re.compile(CHANNEL_NAME + r"\Z")
_USER = re.compile(r"private-App\.Models\.User\.(\d{1,18})\Z")
_BRANCH = re.compile(r"(?:private|presence)-[A-Za-z0-9_-]+\.branch\.(\d{1,18})\Z")
_ORDER = re.compile(r"private-orders\.(\d{1,18})\Z")
_RIDER = re.compile(r"private-App\.Models\.DeliveryExecutive\.(\d{1,18})\Z")


@dataclasses.dataclass(frozen=True)
class Credentials:
    app_id: str
    key: str
    secret: str = dataclasses.field(repr=False)


def valid_name(channel):
    return isinstance(channel, str) and bool(_CHANNEL_NAME.match(channel))


def is_presence(channel):
    return channel.startswith("presence-")


def needs_auth(channel):
    return channel.startswith(("private-", "presence-"))


def signature(secret, text):
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def sign(credentials, socket_id, channel, channel_data=None):
    text = "%s:%s" % (socket_id, channel)
    if channel_data is not None:
        text += ":" + channel_data
    return "%s:%s" % (credentials.key, signature(credentials.secret, text))


def verify(credentials, auth, socket_id, channel, channel_data=None):
    if not isinstance(auth, str):
        return False
    return hmac.compare_digest(auth.encode(), sign(credentials, socket_id, channel,
                                                   channel_data).encode())


def may_join(actor, channel):
    """Whether actor may subscribe to channel (runs in a Store thread)."""
    rider = getattr(actor, "executive_id", None)
    if rider is not None:
        match = _RIDER.match(channel)
        return bool(match) and int(match.group(1)) == rider
    match = _USER.match(channel)
    if match:
        return int(match.group(1)) == actor.user_id
    match = _BRANCH.match(channel)
    if match:
        return int(match.group(1)) == actor.branch_id
    match = _ORDER.match(channel)
    if match:
        return models.Order.select().where(
            (models.Order.id == int(match.group(1))) &
            (models.Order.branch == actor.branch_id)).exists()
    return False


def require_join(actor, channel):
    if not (needs_auth(channel) and may_join(actor, channel)):
        raise Forbidden("You may not subscribe to %s." % channel)


def member(actor):
    """What a presence channel shows of a user."""
    return {"user_id": actor.user_id, "user_info": {"name": actor.name}}


def authorize(actor, credentials, socket_id, channel, last_seq=None):
    """The answer of /broadcasting/auth: {"auth"} (+ "channel_data"), or 403."""
    require_join(actor, channel)
    data = member(actor) if is_presence(channel) else {}
    if last_seq is not None:
        data["last_seq"] = last_seq
    channel_data = json.dumps(data, separators=(",", ":")) if data else None
    answer = {"auth": sign(credentials, socket_id, channel, channel_data)}
    if channel_data is not None:
        answer["channel_data"] = channel_data
    return answer


def presence_channel(kind, branch_id):
    """A branch's presence channel, e.g. presence-floor.branch.7 (Echo: join('floor.branch.7'))."""
    return events.branch_channel(kind, branch_id).replace("private-", "presence-", 1)
