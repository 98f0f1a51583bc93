"""Web Push (RFC 8030/8291/8292) from the cloud: VAPID keys and one push to a subscription.

The cloud's VAPID key pair is generated on first start into ``<data_dir>/keys/vapid.pem``
(mode 0600) and kept; its public key (base64url, what a browser's
``pushManager.subscribe({applicationServerKey})`` takes) is printed by
``branchline-cloud vapid-public-key`` and fed to every edge (push_keys). A push is
encrypted with pywebpush (aes128gcm, a fresh ephemeral key per message), signed with a
VAPID token (a fresh claims dict per push service, aud: its origin, exp: 12 h, signed
again when 3 h are left) and POSTed over connections kept open (cloud/push_http.py), so
many go at once. Push services answer as RFC 8030 says: 201 sent; 404/410 the
subscription is gone; 413 too big (we shrink once); 429 and 5xx try later (Retry-After).
"""

import base64
import dataclasses
import email.utils
import os
import urllib.parse

import py_vapid
import pywebpush
from cryptography.hazmat.primitives import serialization

from protocol import push, push_tokens
from protocol.tokens import write_secret

KEY_FILE = "vapid.pem"
CLAIMS_SECONDS = 12 * 3600
MINIMAL_PAYLOAD = 256


@dataclasses.dataclass(frozen=True)
class Result:
    """One attempt's outcome: kind sent, gone (delete the token), retry, failed or
    expired (its time to live ended before it could go)."""
    kind: str
    detail: str
    status_code: int = None
    retry_after: float = None

    def but(self, detail):
        return dataclasses.replace(self, detail=detail)


def retry_after(value, now_epoch):
    """Seconds from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_epoch)


def by_status(code, text, retry, label):
    """What an HTTP answer of a push service means for the push."""
    detail = "%s answered %d%s" % (label, code, ": " + text[:200] if text else "")
    if 200 <= code < 300:
        return Result("sent", "%s accepted it (%d)" % (label, code), code)
    if code in (404, 410):
        return Result("gone", detail + "; the token is removed", code)
    if code == 429 or code >= 500 or code == 599:
        return Result("retry", detail, code, retry)
    return Result("failed", detail, code)


def load_keys(keys_dir):
    """The cloud's VAPID key (py_vapid.Vapid02), generated on first call."""
    path = os.path.join(keys_dir, KEY_FILE)
    if not os.path.exists(path):
        vapid = py_vapid.Vapid02()
        vapid.generate_keys()
        write_secret(path, vapid.private_pem())     # or another process's, made first
    return py_vapid.Vapid02.from_file(path)


def public_key(vapid):
    """The VAPID public key as base64url of the uncompressed point (applicationServerKey)."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class WebPushService:
    def __init__(self, vapid, subject, http, clock):
        self.vapid = vapid
        self.subject = subject
        self.http = http            # cloud/push_http.py PushHttp
        self.clock = clock
        self._signed = {}           # audience -> (exp, headers)

    def authorization(self, audience):
        """The VAPID header for a push service's origin: a fresh claims dict signed, and
        reused until a quarter of its life is left (RFC 8292 lets a token be reused)."""
        now = self.clock.time()
        cached = self._signed.get(audience)
        if cached is None or cached[0] - now < CLAIMS_SECONDS / 4:
            exp = int(now) + CLAIMS_SECONDS
            claims = {"sub": self.subject, "aud": audience, "exp": exp}
            cached = self._signed[audience] = (exp, dict(self.vapid.sign(claims)))
            if len(self._signed) > 1000:
                self._signed.pop(next(iter(self._signed)))
        return cached[1]

    def request(self, subscription, body, ttl, topic):
        """(endpoint, headers, encrypted body) of one push."""
        endpoint = subscription["endpoint"]
        url = urllib.parse.urlsplit(endpoint)
        headers = dict(self.authorization("%s://%s" % (url.scheme, url.netloc)))
        headers.update({"TTL": str(max(0, int(ttl))), "Urgency": "high", "Topic": topic,
                        "Content-Encoding": "aes128gcm",
                        "Content-Type": "application/octet-stream"})
        encrypted = pywebpush.WebPusher(subscription).encode(body, "aes128gcm")["body"]
        return endpoint, headers, encrypted

    async def _post(self, subscription, body, ttl, topic):
        endpoint, headers, encrypted = self.request(subscription, body, ttl, topic)
        resp = await self.http.post(endpoint, encrypted, headers)
        wait = retry_after(resp.headers.get("Retry-After"), self.clock.time())
        return by_status(resp.code, resp.text, wait, "the push service")

    async def send(self, delivery, ttl):
        """Push delivery's payload to its subscription; a Result."""
        subscription = push_tokens.parse_subscription(delivery["token"])
        topic = "n%s" % delivery["notification_id"]          # ≤ 32 base64url characters
        body = push.shrink(delivery["payload"], push.MAX_PAYLOAD_BYTES)
        result = await self._post(subscription, body, ttl, topic)
        if result.status_code == 413:
            smaller = push.shrink(delivery["payload"], MINIMAL_PAYLOAD)
            if smaller is None or len(smaller) >= len(body):
                return Result("failed", "the push service refused the payload as too large "
                              "(413) and it cannot be made smaller", 413)
            result = await self._post(subscription, smaller, ttl, topic)
            result = result.but("%s (after a 413, shrunk from %d to %d bytes)"
                                % (result.detail, len(body), len(smaller)))
        return result
