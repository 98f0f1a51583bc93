"""Every sync request is signed by the edge's Ed25519 key (the one it signs
login tokens with) and checked by the cloud against the key it enrolled.

Headers: ``X-Branchline-Node`` (node id), ``X-Branchline-Time`` (unix seconds)
and ``X-Branchline-Signature``: base64 of the signature over
``METHOD\\npath-with-query\\ntime\\nsha256(body)``. A request older or newer
than MAX_SKEW seconds is refused, so a captured one cannot be replayed later;
within that window a replay changes nothing (pushes are idempotent).
"""

import base64
import hashlib

from protocol import ed25519

MAX_SKEW = 300


class NotAuthenticated(Exception):
    pass


def _message(method, path, timestamp, body):
    return ("%s\n%s\n%s\n%s" % (method.upper(), path, timestamp,
                                hashlib.sha256(body or b"").hexdigest())).encode()


def sign(private_key, node_id, method, path, body, *, now):
    """Headers signing a request at ``now`` (the node's clock's time())."""
    timestamp = str(int(now))
    signature = ed25519.sign(private_key, _message(method, path, timestamp, body))
    return {"X-Branchline-Node": str(node_id), "X-Branchline-Time": timestamp,
            "X-Branchline-Signature": base64.b64encode(signature).decode("ascii")}


def verify(headers, method, path, body, public_key_for, *, now):
    """The node id a request is signed by; ``public_key_for(node_id)`` gives the
    enrolled PEM public key (None if unknown or retired)."""
    try:
        node_id = int(headers.get("X-Branchline-Node", ""))
        timestamp = headers.get("X-Branchline-Time", "")
        signature = base64.b64decode(headers.get("X-Branchline-Signature", ""), validate=True)
        skew = abs(int(timestamp) - now)
    except (TypeError, ValueError):
        raise NotAuthenticated("unsigned request")
    if skew > MAX_SKEW:
        raise NotAuthenticated("request time is %d s off" % skew)
    pem = public_key_for(node_id)
    if not pem:
        raise NotAuthenticated("node %d is not enrolled" % node_id)
    try:
        key = ed25519.load_public_pem(pem)
    except ValueError:
        raise NotAuthenticated("node %d has no Ed25519 key enrolled" % node_id) from None
    if not ed25519.verify(key, signature, _message(method, path, timestamp, body)):
        raise NotAuthenticated("bad signature")
    return node_id
