"""What a device registers to be pushed to, checked before it is stored.

- ``web``: the browser's PushSubscription (``JSON.stringify(subscription)`` or the object
  itself): ``endpoint`` and ``keys.p256dh`` (an uncompressed P-256 point) and ``keys.auth``
  (16 bytes), both base64url. The endpoint must be https; plain http only where the
  ``push_http_endpoints`` setting allows it (``loopback``: the demo's local push service,
  ``yes``: anywhere). Stored as compact JSON of those three fields.
- ``android`` / ``ios``: an FCM registration token (letters, digits, ``-_:.``).

A token given without a platform is ``web`` when it is a subscription, else kept as is.
"""

import base64
import ipaddress
import json
import re
import urllib.parse

from .errors import ValidationFailed

HTTP_POLICIES = ("no", "loopback", "yes")
FCM_TOKEN = re.compile(r"^[A-Za-z0-9_:.\-]{1,4096}$")
FIELD = "token"
# The curve P-256 (SEC 2, section 2.4.2): y^2 = x^3 - 3x + b over the integers modulo p.
P256_P = 2 ** 256 - 2 ** 224 + 2 ** 192 + 2 ** 96 - 1
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B


def _b64(value, name):
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+={0,2}", value):
        raise ValidationFailed.field(FIELD, "The subscription's %s must be base64url." % name)
    return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint(value, http_policy):
    if not isinstance(value, str) or len(value) > 2048:
        raise ValidationFailed.field(FIELD, "The subscription's endpoint must be a URL.")
    url = urllib.parse.urlsplit(value)
    if url.scheme not in ("https", "http") or not url.hostname:
        raise ValidationFailed.field(FIELD, "The subscription's endpoint must be a URL.")
    if url.scheme == "http" and not (http_policy == "yes" or
                                     (http_policy == "loopback" and _loopback(url.hostname))):
        raise ValidationFailed.field(FIELD, "The subscription's endpoint must use https.")
    return value


def _on_p256(point):
    """Whether point is an uncompressed point of P-256 (``04 || x || y``) as browsers
    give it: checked by the curve's equation, without loading a crypto library into an
    edge (it only stores the key; the cloud encrypts with it, cloud/webpush.py)."""
    if len(point) != 65 or point[0] != 4:
        return False
    x, y = int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")
    return x < P256_P and y < P256_P and (y * y - x * x * x + 3 * x - P256_B) % P256_P == 0


def parse_subscription(token):
    """The {endpoint, keys{p256dh, auth}} of a stored web token."""
    return json.loads(token)


def web_subscription(token, http_policy):
    """A PushSubscription (JSON text or object) checked, as stored (compact JSON)."""
    if isinstance(token, str):
        try:
            token = json.loads(token)
        except ValueError:
            raise ValidationFailed.field(
                FIELD, "A web token must be the browser's PushSubscription as JSON.") from None
    if not isinstance(token, dict) or not isinstance(token.get("keys"), dict):
        raise ValidationFailed.field(
            FIELD, "A web token must be a PushSubscription with endpoint and keys.")
    endpoint = _endpoint(token.get("endpoint"), http_policy)
    keys = token["keys"]
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not _on_p256(_b64(p256dh, "p256dh")):
        raise ValidationFailed.field(FIELD, "The subscription's p256dh is not a P-256 public key.")
    if len(_b64(auth, "auth")) != 16:
        raise ValidationFailed.field(FIELD, "The subscription's auth secret must be 16 bytes.")
    return json.dumps({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                      separators=(",", ":"))


def looks_like_subscription(token):
    """Whether a token (as sent, or as kept) is a browser's PushSubscription."""
    return isinstance(token, dict) or (isinstance(token, str) and token.lstrip()[:1] == "{")


def normalise(platform, token, http_policy):
    """(platform, token as stored) for a registration, or a 422 on the token field."""
    if platform is None and looks_like_subscription(token):
        platform = "web"
    if platform == "web":
        return platform, web_subscription(token, http_policy)
    if not isinstance(token, str):
        raise ValidationFailed.field(FIELD, "The token field must be a string.")
    if platform in ("android", "ios") and not FCM_TOKEN.match(token):
        raise ValidationFailed.field(FIELD, "The token is not an FCM registration token.")
    return platform, token
