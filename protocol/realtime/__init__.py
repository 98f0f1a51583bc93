"""Realtime events on the LAN and at the cloud: a Pusher-compatible server.

- ``hub``: channels, connections, presence, replay history and fan-out (one per node);
- ``pusher``: the WebSocket at ``/app/{key}`` (Pusher protocol 7);
- ``auth``: who may join which channel, and the HMAC signatures;
- ``http``: ``/broadcasting/auth`` and Pusher's publishing API at the server's root.

The settings routes (``/pusher/...`` under the API prefix) are in
``protocol.handlers.pusher``. A server mounts ``routes()`` with
``make_app(node, extra_routes=realtime.routes())``; its composition root makes the
hub (``make_hub``, sync/startup.py) and ``build_node`` hands it the Store's committed
events.
"""

import json
import os
import secrets

from ..tokens import write_secret
from .auth import Credentials
from .http import root_handlers
from .hub import Hub
from .pusher import PusherSocket

CREDENTIALS_FILE = "pusher.json"


def routes():
    """The root routes of a node's realtime server (handlers find the hub on the node)."""
    return [(r"/app/(?P<key>[^/]{1,100})", PusherSocket)] + root_handlers


def credentials(settings, keys_dir):
    """The node's app id, key and secret: the configured ones, else those generated into
    keys_dir on first start (the secret never leaves that file and the settings)."""
    configured = (settings.pusher_app_id, settings.pusher_key, settings.pusher_secret)
    if all(configured):
        return Credentials(*configured)
    path = os.path.join(keys_dir, CREDENTIALS_FILE)
    if not os.path.exists(path):
        made = {"app_id": str(1000000 + secrets.randbelow(9000000)),
                "key": secrets.token_hex(10), "secret": secrets.token_hex(20)}
        write_secret(path, json.dumps(made).encode())   # or another process's, first
    with open(path) as fh:
        stored = json.load(fh)
    return Credentials(*(mine or stored[name] for mine, name
                         in zip(configured, ("app_id", "key", "secret"))))


def make_hub(settings, keys_dir, clock):
    return Hub(credentials(settings, keys_dir), clock=clock, max_connections=settings.max_connections,
               activity_timeout=settings.activity_timeout,
               replay_history=settings.replay_history)
