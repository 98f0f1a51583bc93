"""Login tokens: JWTs signed with a node's Ed25519 key, verified offline.

Each node keeps its private key in ``<data_dir>/keys/node-<id>.key`` and
trusts the public keys in ``<data_dir>/keys/trusted/<node_id>.pem`` (its own is
always trusted). The JWT header's ``kid`` names the signing node, so an edge
accepts a token the cloud issued for its branch, and the cloud accepts one an
enrolled edge issued, and a tablet can fail over without logging in again.

Claims: ``sub`` user id, ``rid`` restaurant, ``bid`` branch, ``iss`` the
issuing node, ``iat``/``exp``, ``jti`` (what logout revokes). A rider app's token
(protocol/partner.py) also says ``kind: "rider"``, its ``sub`` being the rider's
id: it is accepted by the rider app's routes only, and a user's token never there.
"""

import collections
import json
import logging
import os
import secrets

import jwt

from . import ed25519
from .ed25519 import ALGORITHM

log = logging.getLogger("branchline.tokens")
REQUIRED = ("sub", "exp", "jti", "rid", "bid")     # claims every token carries


class InvalidToken(Exception):
    pass


class UnknownSigner(InvalidToken):
    """Signed by a node whose key is not trusted here (yet: an edge enrolled
    through another process of the cloud; Node.verify_token looks it up)."""

    def __init__(self, kid):
        super().__init__("unknown signer %s" % kid)
        self.kid = kid


def write_secret(path, data):
    """Write data (bytes) to a new file at path that only its owner may read; answers
    False, writing nothing, when the file exists (another process made it first).
    The file appears whole (written under another name, then linked into place), so
    cloud workers starting together never read half of one."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        return False
    tmp = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def load_or_create_key(path):
    if not os.path.exists(path):
        key = ed25519.generate()
        if write_secret(path, ed25519.private_pem(key)):
            return key
    with open(path, "rb") as fh:
        return ed25519.load_private_pem(fh.read())


class KeyRing:
    """This node's signing key and the public keys it accepts."""

    VERIFIED_CACHE_SIZE = 4096

    def __init__(self, node_id, private_key, trusted=None):
        # Signature checks cost more than the rest of a request: a token whose
        # signature was verified is remembered (expiry is still checked each time).
        self._verified = collections.OrderedDict()
        self.bound = {}          # kid -> (the only branch, restaurant) its tokens may name
        self.node_id = node_id
        self.private_key = private_key
        self.trusted = {str(node_id): ed25519.public_key(private_key)}
        self.trusted.update(trusted or {})

    @classmethod
    def from_dir(cls, keys_dir, node_id):
        key = load_or_create_key(os.path.join(keys_dir, "node-%d.key" % node_id))
        trusted = {}
        trusted_dir = os.path.join(keys_dir, "trusted")
        if os.path.isdir(trusted_dir):
            for name in sorted(os.listdir(trusted_dir)):
                if name.endswith(".pem"):
                    with open(os.path.join(trusted_dir, name), "rb") as fh:
                        pem = fh.read()
                    try:
                        trusted[name[:-4]] = ed25519.load_public_pem(pem)
                    except ValueError as exc:
                        log.warning("%s is not an Ed25519 public key (%s): tokens of node "
                                    "%s are refused", os.path.join(trusted_dir, name), exc,
                                    name[:-4])
        return cls(node_id, key, trusted)

    def trust_pem(self, node_id, pem, branch_id=None, restaurant_id=None):
        """Accept tokens signed by node_id's key (PEM), from now on; an edge's key
        (``branch_id``) only for tokens scoped to that branch and its restaurant."""
        self.trusted[str(node_id)] = ed25519.load_public_pem(pem)
        if branch_id is not None:
            self.bound[str(node_id)] = (branch_id, restaurant_id)

    def distrust(self, node_id):
        """Stop accepting tokens of node_id (a retired box), including remembered ones."""
        self.trusted.pop(str(node_id), None)
        self.bound.pop(str(node_id), None)
        self._verified.clear()

    def public_pem(self):
        return ed25519.public_pem(self.private_key).decode("ascii")

    @staticmethod
    def trust(keys_dir, node_id, pem):
        """Store another node's public key so tokens it signs are accepted."""
        trusted_dir = os.path.join(keys_dir, "trusted")
        os.makedirs(trusted_dir, exist_ok=True)
        with open(os.path.join(trusted_dir, "%d.pem" % node_id), "wb") as fh:
            fh.write(pem)

    def issue(self, *, user_id, restaurant_id, branch_id, ttl_seconds, now, kind=None):
        """A token signed now (the node's clock's time()); ``kind`` "rider" for a
        rider's."""
        now = int(now)
        claims = {
            "sub": str(user_id), "rid": restaurant_id, "bid": branch_id,
            "iss": "branchline-node-%d" % self.node_id,
            "iat": now, "exp": now + ttl_seconds, "jti": secrets.token_urlsafe(16),
        }
        if kind is not None:
            claims["kind"] = kind
        return ed25519.JWS.encode(json.dumps(claims, separators=(",", ":")).encode(),
                                  self.private_key, algorithm=ALGORITHM,
                                  headers={"kid": str(self.node_id)})

    def verify(self, token, now):
        """The token's claims, or InvalidToken for anything not signed by a
        trusted node, expired at ``now`` (the node's clock), or malformed."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._check_signature(token)
            self._verified[token] = claims
            if len(self._verified) > self.VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        if claims["exp"] <= now:
            raise InvalidToken("expired")
        bound = self.bound.get(claims["kid"])
        if bound is not None and (claims["bid"], claims["rid"]) != bound:
            raise InvalidToken("an edge's token for another branch or restaurant")
        return dict(claims)

    def _check_signature(self, token):
        try:
            header = jwt.get_unverified_header(token)
            key = self.trusted.get(str(header.get("kid")))
            if key is None:
                raise UnknownSigner(str(header.get("kid")))
            # The expiry is checked by ``verify``, at the node's clock's time.
            claims = json.loads(ed25519.JWS.decode_complete(
                token, key, algorithms=[ALGORITHM])["payload"])
            if not isinstance(claims, dict):
                raise InvalidToken("the token's claims are not an object")
            missing = [name for name in REQUIRED if claims.get(name) is None]
            if missing:
                raise InvalidToken("the token has no %s claim" % missing[0])
            claims["sub"] = int(claims["sub"])
            claims["exp"] = int(claims["exp"])
            claims["kid"] = str(header.get("kid"))
            return claims
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken(str(exc)) from None
