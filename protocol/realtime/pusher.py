"""The WebSocket at ``/app/{key}`` speaking Pusher Channels protocol 7.

pusher-js, Laravel Echo and the Dart/Flutter Pusher clients connect here unchanged:
``pusher:connection_established`` (data: a JSON string with socket_id and
activity_timeout), ``pusher:ping``/``pusher:pong``, ``pusher:subscribe`` (private and
presence channels signed as ``protocol.realtime.auth`` describes) and
``pusher:unsubscribe``, ``pusher:subscription_error`` for a refused subscription,
``pusher:error`` with a code for a refused message, and ``client-`` events relayed to
the other members of a private or presence channel the sender is in. Close codes:
4001 wrong app key, 4007 unsupported protocol, 41xx retry later (over capacity, too
slow), 42xx reconnect now (shutting down, no pong). Channels and fan-out: ``hub``.
"""

import orjson
import tornado.iostream
import tornado.websocket

from . import auth
from .hub import PONG, SEND_BUFFER_BYTES, Connection, frame

MAX_MESSAGE_BYTES = 64 * 1024       # what a client may send in one message
MAX_CHANNELS = 100                  # subscriptions one connection may hold
MAX_CLIENT_EVENT_BYTES = 10 * 1024  # a client event's data (Pusher's limit)
CLIENT_EVENTS_PER_SECOND = 10       # per connection (Pusher's limit)


class PusherSocket(Connection, tornado.websocket.WebSocketHandler):

    @property
    def hub(self):
        return self.application.settings["node"].hub

    @property
    def max_message_size(self):
        return MAX_MESSAGE_BYTES

    def check_origin(self, origin):
        return True         # browser apps are served from other origins (and files)

    def open(self, key):
        hub = self.hub
        refusal = hub.refusal(key, self.get_query_argument("protocol", ""))
        if refusal is not None:
            code, reason = refusal
            self._write(frame("pusher:error", data={"code": code, "message": reason}))
            self.close(code, reason)
            return
        self.set_nodelay(True)
        self.ws_connection.stream.max_write_buffer_size = SEND_BUFFER_BYTES
        self._events_window = [0.0, 0]
        socket_id = hub.add(self)
        self.send(frame("pusher:connection_established", data={
            "socket_id": socket_id, "activity_timeout": hub.activity_timeout}))

    def on_close(self):
        if self.socket_id is not None:
            self.hub.remove(self)

    # --- Out ---------------------------------------------------------------------------

    def send(self, message):
        """Queue message without waiting; a full send buffer cuts the client off."""
        try:
            self._write(message)
        except tornado.iostream.StreamBufferFullError:
            self.hub.too_slow(self)

    def _write(self, message):
        ws = self.ws_connection
        if ws is None or ws.is_closing():
            return
        # One unmasked text frame, sent straight to the socket when nothing is queued
        # before it; only what the socket does not take goes through the stream's buffer.
        # write_message would make a Task, and IOStream.write a Future and a callback,
        # per message: for a thousand subscribers that garbage wakes the collector,
        # whose full passes stall every client.
        frame = _header(len(message)) + message
        stream = ws.stream
        try:
            if type(stream) is tornado.iostream.IOStream and not stream.writing():
                try:
                    sent = stream.socket.send(frame)      # plain TCP (TLS: the stream's way)
                except BlockingIOError:
                    sent = 0
                if sent == len(frame):
                    return
                frame = frame[sent:]
            stream.write(frame)
        except OSError:     # StreamClosedError too: the stream notices, on_close follows
            pass

    def close_with(self, code, reason):
        ws = self.ws_connection
        if ws is not None and ws.stream is not None:
            ws.stream.max_write_buffer_size = None     # room for the close frame
        self.close(code, reason)

    def error(self, code, message):
        self.send(frame("pusher:error", data={"code": code, "message": message}))

    def subscription_error(self, channel, status, kind, message):
        self.send(frame("pusher:subscription_error", channel,
                        {"type": kind, "error": message, "status": status}))

    # --- In ----------------------------------------------------------------------------

    def on_message(self, text):
        hub = self.hub
        if self.socket_id not in hub.connections:
            return
        hub.heard(self)
        try:
            message = orjson.loads(text)     # refuses lone surrogates and deep nesting too
        except orjson.JSONDecodeError:
            return self.error(4300, "Invalid JSON message")
        event = message.get("event") if isinstance(message, dict) else None
        if not isinstance(event, str):
            return self.error(4300, "A message needs an event name")
        data = message.get("data")
        if event == "pusher:ping":
            self.send(PONG)
        elif event == "pusher:pong":
            pass
        elif event == "pusher:subscribe":
            self._subscribe(_as_dict(data))
        elif event == "pusher:unsubscribe":
            hub.unsubscribe(self, _as_dict(data).get("channel"))
        elif event.startswith("client-"):
            self._client_event(event, message.get("channel"), data, len(text))
        else:
            self.error(4300, "Unsupported event %s" % event[:100])

    def _subscribe(self, data):
        channel = data.get("channel")
        if not auth.valid_name(channel):
            return self.subscription_error(channel if isinstance(channel, str) else None, 400,
                                           "InvalidChannel", "Invalid channel name")
        if channel not in self.channels and len(self.channels) >= MAX_CHANNELS:
            return self.subscription_error(channel, 400, "LimitReached",
                                           "A connection may hold %d subscriptions" % MAX_CHANNELS)
        channel_data = data.get("channel_data")
        signed = {}
        if auth.needs_auth(channel):
            if channel_data is not None and not isinstance(channel_data, str):
                channel_data = None
            if not auth.verify(self.hub.credentials, data.get("auth"), self.socket_id,
                               channel, channel_data):
                return self.subscription_error(channel, 401, "AuthError",
                                               "Invalid signature for %s" % channel)
            if self.hub.revoked(self, channel):
                return self.subscription_error(channel, 401, "AuthError",
                                               "The token that authorised %s was revoked"
                                               % channel)
            signed = _as_dict(channel_data)
            if auth.is_presence(channel) and signed.get("user_id") in (None, ""):
                return self.subscription_error(channel, 400, "AuthError",
                                               "channel_data must name a user_id")
        last_seq = signed.get("last_seq", data.get("last_seq"))
        self.hub.subscribe(
            self, channel,
            member=signed if auth.is_presence(channel) else None,
            last_seq=last_seq if type(last_seq) is int and last_seq >= 0 else None)

    def _client_event(self, event, channel, data, size):
        if not isinstance(channel, str) or channel not in self.channels:
            return self.error(4009, "Client event rejected: not subscribed to %s"
                              % str(channel)[:100])
        if not auth.needs_auth(channel):
            return self.error(4009, "Client event rejected: only private and presence "
                                    "channels take client events")
        if len(event) > 200 or size > MAX_CLIENT_EVENT_BYTES + 512:
            return self.error(4301, "Client event rejected: too large")
        now = self.hub.clock.monotonic()
        window = self._events_window
        if now - window[0] >= 1:
            window[0], window[1] = now, 0
        window[1] += 1
        if window[1] > CLIENT_EVENTS_PER_SECOND:
            return self.error(4301, "Client event rejected: more than %d a second"
                              % CLIENT_EVENTS_PER_SECOND)
        member = self.channels[channel]
        user_id = self.hub.channels[channel].members[member][0] if member is not None else None
        self.hub.relay(self, channel, event, data, user_id)


def _header(length):
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return b"\x81\x7e" + length.to_bytes(2, "big")
    return b"\x81\x7f" + length.to_bytes(8, "big")


def _as_dict(value):
    """A message's data: an object, or a JSON text of one (some clients send that)."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}
