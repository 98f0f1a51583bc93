"""Realtime settings and channel authorisation under the API prefix (RESPONSES.md, "Pusher
settings and channel auth").

Apps read these, then connect pusher-js / Laravel Echo to this node's own WebSocket:
the answers carry the node's app key and where to connect (host, port, scheme, and the
same as pusher-js's ``wsHost``/``wsPort``/``forceTLS``), never a secret. Beams (Pusher's
push service) is not offered: push goes through the node's own delivery.
"""

import urllib.parse

from ..realtime import auth
from ..realtime.http import BroadcastAuthHandler
from .. import floor_shapes, push
from .base import APIHandler

CLUSTER = "local"     # pusher-js wants a cluster; wsHost/wsPort decide where it connects


def reached(request, default_port):
    """(host, port) the client reached this node on: its Host header, else (no Host,
    or one that is not host[:port]) the address of the socket it connected to."""
    try:
        url = urllib.parse.urlsplit("//" + request.host)
        if url.hostname and url.port != 0:
            return url.hostname, url.port or default_port
    except ValueError:
        pass
    try:
        address = request.connection.stream.socket.getsockname()
        return address[0], address[1]
    except (AttributeError, OSError):
        return "127.0.0.1", default_port


def connection_settings(handler):
    """Where clients reach this node's WebSocket: its public_url (a proxy in front of
    it), else the address the request came to (the Host a device on the LAN used to
    reach the API, so an edge whose address changed answers the new one), with the
    fingerprints of the certificate it serves HTTPS with, for apps to pin."""
    node = handler.node
    public = node.settings.public_url
    if public:
        url = urllib.parse.urlsplit(public)
        scheme, host, path = url.scheme, url.hostname, url.path.rstrip("/")
        port = url.port or (443 if scheme == "https" else 80)
    else:
        scheme, path = handler.request.protocol, ""
        host, port = reached(handler.request, 443 if scheme == "https" else 80)
    tls = scheme == "https"
    base = "%s://%s%s%s" % (scheme, "[%s]" % host if ":" in host else host,
                            "" if port == (443 if tls else 80) else ":%d" % port, path)
    hub = node.hub
    return {
        "pusher_app_id": hub.credentials.app_id, "pusher_key": hub.credentials.key,
        "pusher_cluster": CLUSTER, "pusher_host": host, "pusher_port": port,
        "pusher_scheme": scheme, "ws_host": host, "ws_port": port, "wss_port": port,
        "ws_path": path, "force_tls": tls, "enabled_transports": ["ws", "wss"],
        "auth_endpoint": base + "/broadcasting/auth", "activity_timeout": hub.activity_timeout,
        "replay": True, "tls_fingerprint": (node.tls_fingerprint or None) if tls else None,
        "tls_spki": (node.tls_spki or None) if tls else None,
    }


class SettingsHandler(APIHandler):
    responses = {"get": floor_shapes.RealtimeSettingsAnswer}
    tags = ("realtime",)

    def get(self):
        """The realtime settings: {data: {id, beamer_status, instance_id, pusher_broadcast,
        pusher_app_id, pusher_key, pusher_cluster, is_enabled_pusher_broadcast, and where to
        connect: ws_host, ws_port, force_tls, auth_endpoint, ...}}; never a secret."""
        data = {"id": 1, "beamer_status": False, "instance_id": None, "pusher_broadcast": True,
                "is_enabled_pusher_broadcast": True, "is_enabled_beams": False}
        data.update(connection_settings(self))
        self.write_json({"data": data})


class BroadcastSettingsHandler(APIHandler):
    responses = {"get": floor_shapes.BroadcastSettingsAnswer}
    tags = ("realtime",)

    def get(self):
        """What pusher-js / Echo need: {data: {pusher_broadcast, pusher_app_id, pusher_key,
        pusher_cluster, is_enabled, ws_host, ws_port, force_tls, auth_endpoint, ...}}."""
        data = {"pusher_broadcast": True, "is_enabled": True}
        data.update(connection_settings(self))
        self.write_json({"data": data})


class BeamsSettingsHandler(APIHandler):
    responses = {"get": floor_shapes.BeamsSettingsAnswer}
    tags = ("realtime",)

    async def get(self):
        """Pusher Beams is not used (push goes through the node's own Web Push and FCM):
        {data: {beamer_status: false, instance_id: null, is_enabled: false,
        vapid_public_key}}; the key (base64url, a browser's applicationServerKey) is null
        until the cloud's has reached this node. Never a secret."""
        key = await self.run(push.vapid_public_key)
        self.write_json({"data": {"beamer_status": False, "instance_id": None,
                                  "is_enabled": False, "vapid_public_key": key}})


class StatusHandler(APIHandler):
    responses = {"get": floor_shapes.RealtimeStatus}
    tags = ("realtime",)

    def get(self):
        """{pusher_broadcast_enabled: true, pusher_beams_enabled: false,
        any_pusher_enabled: true}."""
        self.write_json({"pusher_broadcast_enabled": True, "pusher_beams_enabled": False,
                         "any_pusher_enabled": True})


class AuthorizeChannelHandler(BroadcastAuthHandler):
    """The module's name for /broadcasting/auth (JSON body {channel_name, socket_id})."""


class DiagnosticsHandler(APIHandler):
    responses = {"get": floor_shapes.RealtimeDiagnosticsAnswer}
    tags = ("realtime",)

    def get(self):
        """What a client needs to tell why realtime does not work, never a secret:
        {data: {timestamp, authenticated, user_id, pusher_broadcast, pusher_app_id,
        pusher_key, pusher_secret: "***", connections, realtime_bus: none / up / down
        (events shared with the cloud's other processes through Redis, or this one
        alone), and where to connect}}."""
        hub = self.node.hub
        data = {"timestamp": self.now(), "authenticated": True, "user_id": self.auth.user_id,
                "node": self.node.role, "pusher_broadcast": True, "beams": False,
                "pusher_secret": "***" if hub.credentials.secret else "empty",
                "connections": len(hub.connections), "realtime_bus": (
                    "none" if hub.bus is None else "up" if hub.bus.up else "down")}
        data.update(connection_settings(self))
        self.write_json({"data": data})


class PresenceMembersHandler(APIHandler):
    responses = {"get": floor_shapes.Members}
    tags = ("realtime",)

    async def get(self, channel):
        """Who is on a presence channel the caller may join: {members: [{id, info:
        {name}}], count}; 403 for a presence channel the caller may not join; any
        other channel name has no members (empty)."""
        if not auth.is_presence(channel):
            self.write_json({"members": [], "count": 0})
            return
        await self.actor_run(auth.require_join, channel)
        members = await self.node.hub.members(channel)
        self.write_json({"members": members, "count": len(members)})


default_handlers = [
    (r"/pusher/settings", SettingsHandler),
    (r"/pusher/broadcast-settings", BroadcastSettingsHandler),
    (r"/pusher/beams-settings", BeamsSettingsHandler),
    (r"/pusher/status", StatusHandler),
    (r"/pusher/authorize-channel", AuthorizeChannelHandler),
    (r"/pusher/presence/(?P<channel>%s)/members" % auth.CHANNEL_NAME, PresenceMembersHandler),
    (r"/pusher/diagnostics", DiagnosticsHandler),
]
