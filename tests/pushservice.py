"""Local push services for the push tests: real encryption and signatures, no internet.

``WebPushService`` is a Web Push service (RFC 8030) on a free loopback port. Each
``Subscriber`` is a browser: its own P-256 key and auth secret, a subscription whose
endpoint is ``{service}/push/{id}``. A push must carry a VAPID JWT (RFC 8292: ES256
signed by the key in ``k=``, ``aud`` this service's origin, ``exp`` within 24 h, a
``sub``) and an aes128gcm body (RFC 8291) that the subscriber's private key decrypts
(http_ece); the service answers 201, or what a test planned for that subscriber
(``plan[id] = [429, 201]``: 404, 410, 413, 429 with Retry-After, 5xx). A push is counted
in ``received`` only once its 201 is written; ``delay`` holds every answer back, and one
whose client went away meanwhile is not counted (a real service keeps nothing it never
acknowledged).

``FcmService`` is Google's OAuth token endpoint and FCM's ``messages:send``: it checks the
service account's RS256 assertion (iss, aud, scope, exp), the bearer token, and the
message's shape, and answers FCM's own error envelopes for the tokens a test planned.
"""

import asyncio
import base64
import collections
import json
import os
import time

import http_ece
import jwt
import tornado.httpserver
import tornado.netutil
import tornado.web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Subscriber:
    """A browser's push subscription: its keys, and decrypting what it is sent."""

    def __init__(self, endpoint, name=None):
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = endpoint

    def subscription(self):
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": b64(point), "auth": b64(self.auth)}}

    def decrypt(self, body):
        return http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth,
                                version="aes128gcm")


async def _listen(app):
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    return server, sockets[0].getsockname()[1]


def vapid_claims(header, audience):
    """The VAPID JWT's claims, verified (ES256 by the k= key, aud, exp); raises ValueError."""
    if not header.startswith("vapid "):
        raise ValueError("no vapid Authorization")
    parts = dict(p.strip().split("=", 1) for p in header[6:].split(","))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(parts["k"]))
    claims = jwt.decode(parts["t"], public, algorithms=["ES256"], audience=audience,
                        options={"require": ["exp", "aud", "sub"]})
    if claims["exp"] > time.time() + 24 * 3600:
        raise ValueError("exp more than 24 h ahead")
    return claims, parts["k"]


class _PushHandler(tornado.web.RequestHandler):
    def initialize(self, service):
        self.service = service

    async def post(self, name):
        service = self.service
        service.attempts[name] += 1
        try:
            claims, key = vapid_claims(self.request.headers.get("Authorization", ""),
                                       service.origin)
        except Exception as exc:          # what a push service answers a bad signature
            service.rejected.append((name, str(exc)))
            self.set_status(401)
            return
        if service.vapid_key and key != service.vapid_key:
            self.set_status(403)
            return
        if self.request.headers.get("Content-Encoding") != "aes128gcm" or \
                "TTL" not in self.request.headers:
            self.set_status(400)
            return
        planned = service.plan.get(name)
        status = planned.popleft() if planned else 201
        if status == 201 and len(self.request.body) > service.max_body:
            status = 413
        if service.delay:
            await asyncio.sleep(service.delay)
        if status != 201:
            self.set_status(status)
            if status in (429, 503):
                self.set_header("Retry-After", str(service.retry_after))
            self.finish()
            return
        subscriber = service.subscribers.get(name)
        if subscriber is None:
            self.set_status(410)
            return
        payload = json.loads(subscriber.decrypt(self.request.body))
        stream = self.request.connection.stream
        if stream is None or stream.closed():
            service.abandoned += 1      # its sender is gone: never acknowledged
            return
        self.set_status(201)
        self.set_header("Location", "%s/message/%d" % (service.origin, len(service.received)))
        self.finish()
        service.received.append({"subscriber": name, "payload": payload, "claims": claims,
                                 "ttl": int(self.request.headers["TTL"]),
                                 "topic": self.request.headers.get("Topic"),
                                 "size": len(self.request.body), "at": time.time()})


class WebPushService:
    def __init__(self):
        self.subscribers = {}
        self.plan = collections.defaultdict(collections.deque)
        self.attempts = collections.Counter()
        self.received = []
        self.rejected = []
        self.abandoned = 0             # pushes whose sender went away before the answer
        self.delay = 0.0
        self.retry_after = 1
        self.max_body = 4096
        self.vapid_key = None          # when set, the only VAPID key accepted
        self.origin = None

    async def start(self):
        app = tornado.web.Application([(r"/push/([\w-]+)", _PushHandler, {"service": self})])
        self.server, port = await _listen(app)
        self.origin = "http://127.0.0.1:%d" % port
        return self

    def subscriber(self, name):
        self.subscribers[name] = Subscriber("%s/push/%s" % (self.origin, name), name)
        return self.subscribers[name]

    def payloads(self, name):
        return [r["payload"] for r in self.received if r["subscriber"] == name]

    def close(self):
        self.server.stop()


# --- FCM -----------------------------------------------------------------------------------

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
# The assertion's audience Google's token endpoint requires (whatever URI it is sent to).
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


def fcm_error(code, status, message, error_code=None):
    error = {"code": code, "message": message, "status": status}
    if error_code:
        error["details"] = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                             "errorCode": error_code}]
    return {"error": error}


FCM_ERRORS = {
    "UNREGISTERED": (404, fcm_error(404, "NOT_FOUND", "Requested entity was not found.",
                                    "UNREGISTERED")),
    "INVALID_ARGUMENT": (400, fcm_error(400, "INVALID_ARGUMENT", "The registration token "
                                        "is not a valid FCM registration token",
                                        "INVALID_ARGUMENT")),
    "QUOTA_EXCEEDED": (429, fcm_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for "
                                      "quota metric 'Send requests'", "QUOTA_EXCEEDED")),
    "UNAVAILABLE": (503, fcm_error(503, "UNAVAILABLE", "The service is currently "
                                   "unavailable.", "UNAVAILABLE")),
}


class _TokenHandler(tornado.web.RequestHandler):
    def initialize(self, service):
        self.service = service

    def post(self):
        service = self.service
        if self.get_body_argument("grant_type", "") != \
                "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self.set_status(400)
            self.write({"error": "unsupported_grant_type"})
            return
        try:
            claims = jwt.decode(self.get_body_argument("assertion"), service.public_key,
                                algorithms=["RS256"], audience=GOOGLE_TOKEN_AUDIENCE,
                                options={"require": ["exp", "iat", "iss", "aud"]})
        except jwt.PyJWTError as exc:
            self.set_status(400)
            self.write({"error": "invalid_grant", "error_description": str(exc)})
            return
        if claims["iss"] != service.client_email or SCOPE not in claims.get("scope", ""):
            self.set_status(400)
            self.write({"error": "invalid_scope"})
            return
        token = "ya29.%s" % b64(os.urandom(12))
        service.tokens.add(token)
        service.token_fetches += 1
        self.write({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})


class _SendHandler(tornado.web.RequestHandler):
    def initialize(self, service):
        self.service = service

    def post(self, project):
        service = self.service
        auth = self.request.headers.get("Authorization", "")
        if project != service.project or auth[7:] not in service.tokens:
            self.set_status(401)
            self.write(fcm_error(401, "UNAUTHENTICATED", "Request had invalid authentication "
                                 "credentials.", "THIRD_PARTY_AUTH_ERROR"))
            return
        try:
            message = json.loads(self.request.body)["message"]
            assert isinstance(message["token"], str) and message["token"]
            assert isinstance(message["notification"]["title"], str)
            assert all(isinstance(v, str) for v in message.get("data", {}).values())
            assert message["android"]["ttl"].endswith("s")
            int(message["android"]["ttl"][:-1])
        except (ValueError, KeyError, TypeError, AssertionError):
            self.set_status(400)
            self.write(fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."))
            return
        planned = service.plan.get(message["token"])
        outcome = planned.popleft() if planned else None
        if outcome:
            status, body = FCM_ERRORS[outcome]
            self.set_status(status)
            if status in (429, 503):
                self.set_header("Retry-After", "1")
            self.write(body)
            return
        service.received.append(message)
        self.write({"name": "projects/%s/messages/%d" % (project, len(service.received))})


class FcmService:
    project = "branchline-test"
    client_email = "push@branchline-test.iam.gserviceaccount.com"

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self.key.public_key()
        self.tokens = set()
        self.token_fetches = 0
        self.received = []
        self.plan = collections.defaultdict(collections.deque)
        self.origin = self.token_uri = None

    async def start(self):
        app = tornado.web.Application([
            (r"/token", _TokenHandler, {"service": self}),
            (r"/v1/projects/([\w-]+)/messages:send", _SendHandler, {"service": self})])
        self.server, port = await _listen(app)
        self.origin = "http://127.0.0.1:%d" % port
        self.token_uri = self.origin + "/token"
        return self

    def service_account(self, path):
        """Write the service account's JSON (as Firebase's console gives it) to path."""
        pem = self.key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
        with open(path, "w") as fh:
            json.dump({"type": "service_account", "project_id": self.project,
                       "private_key_id": "k1", "private_key": pem,
                       "client_email": self.client_email, "client_id": "1",
                       # a closed local port: only push_fcm_token_uri reaches the service
                       "token_uri": "http://127.0.0.1:9/token"}, fh)
        return str(path)

    def close(self):
        self.server.stop()


# --- As a process of its own (tests/bench_push.py) ---------------------------------------

class _SubscriptionsHandler(tornado.web.RequestHandler):
    def initialize(self, service):
        self.service = service

    def get(self):
        self.write({"subscriptions": [s.subscription() for s in
                                      self.service.subscribers.values()]})


class _StatsHandler(tornado.web.RequestHandler):
    def initialize(self, service):
        self.service = service

    def get(self):
        received = self.service.received
        self.write({"received": len(received), "rejected": len(self.service.rejected),
                    "first": received[0]["at"] if received else None,
                    "last": received[-1]["at"] if received else None,
                    "distinct": len({(r["subscriber"], r["payload"]["notification_id"])
                                     for r in received})})

    def delete(self):
        self.service.received.clear()
        self.write({})


def main():
    """``python tests/pushservice.py PORT SUBSCRIBERS``: a Web Push service with that many
    subscribers; GET /subscriptions lists them, GET /stats counts what was received."""
    import sys
    port, count = int(sys.argv[1]), int(sys.argv[2])

    async def serve():
        service = WebPushService()
        service.origin = "http://127.0.0.1:%d" % port
        for n in range(count):
            service.subscriber("bench-%d" % n)
        app = tornado.web.Application([
            (r"/push/([\w-]+)", _PushHandler, {"service": service}),
            (r"/subscriptions", _SubscriptionsHandler, {"service": service}),
            (r"/stats", _StatsHandler, {"service": service})])
        app.listen(port, "127.0.0.1")
        print("push service ready", flush=True)
        await asyncio.Event().wait()
    asyncio.run(serve())


if __name__ == "__main__":
    main()
