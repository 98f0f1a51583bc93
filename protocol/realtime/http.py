"""The realtime routes at the server's root, where Pusher clients and services expect them.

- ``POST /broadcasting/auth``: Laravel's channel authorisation (form or JSON
  ``socket_id``, ``channel_name``, optional ``last_seq``; bearer token) answering
  ``{"auth": "key:signature"}`` (+ ``channel_data``), or 403.
- ``POST /apps/{app_id}/events`` and ``/batch_events``: Pusher's HTTP publishing API,
  signed the Pusher way (``auth_key``, ``auth_timestamp``, ``auth_version``,
  ``body_md5``, ``auth_signature`` = HMAC-SHA256 of ``"POST\\n<path>\\n<sorted query>"``),
  so the official server SDKs and other services on the LAN can publish; ``socket_id``
  leaves that connection out.
"""

import hashlib
import hmac
from typing import Optional, Union

import pydantic

from .. import floor_shapes
from ..errors import APIError, NotFound
from ..handlers.base import APIHandler
from ..validation import Body
from . import auth

SOCKET_ID = r"^\d{1,20}\.\d{1,20}$"
CHANNEL = "^" + auth.CHANNEL_NAME + "$"
TIMESTAMP_WINDOW = 600          # seconds a signed publishing request stays valid
MAX_DATA = 10 * 1024            # an event's data, as Pusher limits it

ChannelName = pydantic.constr(pattern=CHANNEL)
SocketId = pydantic.constr(pattern=SOCKET_ID)


class ChannelAuthBody(Body):
    socket_id: SocketId
    channel_name: ChannelName
    last_seq: Optional[int] = pydantic.Field(None, ge=0, le=2 ** 53)
    # The device_id it registered its push token with: while this socket is subscribed
    # to the user's channel, pushes to that device are skipped (cloud/push_sender.py).
    device_id: Optional[pydantic.constr(min_length=1, max_length=191)] = None


class BroadcastAuthHandler(APIHandler):
    responses = {"post": floor_shapes.ChannelAuth}
    bodies = {"post": ChannelAuthBody}
    tags = ("realtime",)

    async def post(self):
        """Authorise a private or presence channel for the caller (Laravel's
        /broadcasting/auth; form or JSON socket_id, channel_name): {auth:
        "key:signature"}, plus channel_data on presence channels ({user_id, user_info:
        {name}}). last_seq, the newest seq the client saw, asks for the events it missed
        to be replayed on subscribe; device_id, the one its push token was registered
        with, tells the node not to push to that device while it is connected. 403 for a
        channel the user may not join."""
        body = self.body()
        hub = self.node.hub
        answer = await self.actor_run(auth.authorize, hub.credentials, body.socket_id,
                                      body.channel_name, body.last_seq)
        hub.grant(body.socket_id, body.channel_name, self.auth.jti, body.device_id)
        self.write_json(answer)


# --- The publishing API ----------------------------------------------------------------

class EventBody(Body):
    name: str = pydantic.Field(min_length=1, max_length=200)
    data: Union[str, dict, list] = ""
    channel: Optional[ChannelName] = None
    channels: Optional[list[ChannelName]] = pydantic.Field(None, min_length=1, max_length=100)
    socket_id: Optional[SocketId] = None

    @pydantic.model_validator(mode="after")
    def _one_target(self):
        if not self.channels and not self.channel:
            raise ValueError("The channels field is required.")
        if isinstance(self.data, str) and len(self.data) > MAX_DATA:
            raise ValueError("The data field must not be greater than %d bytes." % MAX_DATA)
        return self

    def targets(self):
        return self.channels or [self.channel]


class BatchBody(Body):
    batch: list[EventBody] = pydantic.Field(min_length=1, max_length=10)


class SignedHandler(APIHandler):
    """A handler of Pusher's HTTP API: no token, the request is signed with the secret."""
    statuses = {"post": (401,)}
    public = True
    tags = ("realtime",)
    _stream_request_body = False     # the signature covers the body: read whole first

    def prepare(self):
        super().prepare()
        hub = self.node.hub
        if self.path_kwargs.get("app_id") != hub.credentials.app_id:
            raise NotFound("Unknown app id.")
        query = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        if query.get("auth_key") != hub.credentials.key:
            raise APIError("Unknown auth_key.", status=401)
        try:
            stamp = int(query.get("auth_timestamp", ""))
        except ValueError:
            raise APIError("auth_timestamp is missing.", status=401)
        if abs(hub.clock.time() - stamp) > TIMESTAMP_WINDOW:
            raise APIError("auth_timestamp is more than %d s away from this server's clock."
                           % TIMESTAMP_WINDOW, status=401)
        if self.request.body and query.get("body_md5") != hashlib.md5(
                self.request.body).hexdigest():
            raise APIError("body_md5 does not match the body.", status=401)
        given = query.pop("auth_signature", "")
        signed = "%s\n%s\n%s" % (self.request.method, self.request.path, "&".join(
            "%s=%s" % (k.lower(), query[k]) for k in sorted(query, key=str.lower)))
        if not hmac.compare_digest(given.encode(), auth.signature(
                hub.credentials.secret, signed).encode()):
            raise APIError("Invalid signature.", status=401)

    def publish(self, event):
        for channel in event.targets():
            self.node.hub.publish(channel, event.name, event.data, exclude=event.socket_id)


class EventsHandler(SignedHandler):
    responses = {"post": floor_shapes.Published}
    bodies = {"post": EventBody}

    def post(self, app_id):
        """Publish an event (Pusher's HTTP API, signed with the app key and secret):
        {name, data, channel or channels (≤ 100), socket_id to leave out}; answers {}."""
        self.publish(self.body())
        self.write_json({})


class BatchEventsHandler(SignedHandler):
    responses = {"post": floor_shapes.Published}
    bodies = {"post": BatchBody}

    def post(self, app_id):
        """Publish up to 10 events at once (Pusher's HTTP API): {batch: [{name, data,
        channel, socket_id}]}; answers {}."""
        for event in self.body().batch:
            self.publish(event)
        self.write_json({})


root_handlers = [
    (r"/broadcasting/auth", BroadcastAuthHandler),
    (r"/apps/(?P<app_id>[0-9A-Za-z_-]{1,64})/events", EventsHandler),
    (r"/apps/(?P<app_id>[0-9A-Za-z_-]{1,64})/batch_events", BatchEventsHandler),
]
