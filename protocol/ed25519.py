"""Ed25519 keys: what a node signs login tokens and sync requests with (PyNaCl, that is
libsodium).

A key is kept as PEM in the formats every tool reads (RFC 8410): the private key as
unencrypted PKCS #8 (``BEGIN PRIVATE KEY``), the public key as SubjectPublicKeyInfo
(``BEGIN PUBLIC KEY``). For Ed25519 both are a fixed DER prefix and the 32 bytes of the
key, so they are written and read here as such: keys made by OpenSSL or ``cryptography``
load, and keys made here load there.

An edge signs every sync request and checks every token with these, so it uses
libsodium (about 1 MB of memory) rather than ``cryptography`` (about 9 MB: its own
OpenSSL); ``cryptography`` stays for what needs X.509 or P-256 (edge/certificate.py,
cloud/webpush.py), which an edge's own process never loads (edge/launch.py).

``JWS`` signs and verifies ``EdDSA`` JSON Web Signatures with these keys (PyJWT's
JWS with its public ``register_algorithm``; protocol/tokens.py makes tokens of them).
"""

import base64
import binascii

import jwt
import nacl.exceptions
import nacl.signing
from jwt.algorithms import Algorithm

ALGORITHM = "EdDSA"
PRIVATE_LABEL, PUBLIC_LABEL = "PRIVATE KEY", "PUBLIC KEY"
PRIVATE_PREFIX = bytes.fromhex("302e020100300506032b657004220420")   # PKCS #8, RFC 8410
PUBLIC_PREFIX = bytes.fromhex("302a300506032b6570032100")             # SPKI, RFC 8410
KEY_BYTES = 32

PrivateKey = nacl.signing.SigningKey
PublicKey = nacl.signing.VerifyKey


def generate():
    return PrivateKey.generate()


def public_key(private_key):
    return private_key.verify_key


def sign(private_key, message):
    """The 64-byte signature of message (bytes)."""
    return private_key.sign(message).signature


def verify(public_key, signature, message):
    """Whether signature is public_key's over message."""
    try:
        public_key.verify(message, signature)
        return True
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return False


def _pem(label, der):
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        label, "\n".join(lines), label)).encode("ascii")


def _der(pem, label):
    """The DER inside a PEM block labelled ``label``, or ValueError."""
    if isinstance(pem, bytes):
        try:
            pem = pem.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError("a PEM key is ASCII text") from None
    if not isinstance(pem, str):
        raise ValueError("a PEM key is text")
    begin, end = "-----BEGIN %s-----" % label, "-----END %s-----" % label
    text = pem.strip()
    if not (text.startswith(begin) and text.endswith(end)):
        raise ValueError("not a PEM %s" % label.lower())
    body = "".join(text[len(begin):-len(end)].split())
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise ValueError("a PEM key's body is not base64") from None


def _key_bytes(pem, label, prefix):
    der = _der(pem, label)
    if len(der) != len(prefix) + KEY_BYTES or not der.startswith(prefix):
        raise ValueError("not an Ed25519 %s" % label.lower())
    return der[len(prefix):]


def private_pem(private_key):
    return _pem(PRIVATE_LABEL, PRIVATE_PREFIX + bytes(private_key))


def public_pem(key):
    """The PEM public key of a private or public key."""
    if isinstance(key, PrivateKey):
        key = key.verify_key
    return _pem(PUBLIC_LABEL, PUBLIC_PREFIX + bytes(key))


def load_private_pem(pem):
    """The private key in a PEM (bytes or text), or ValueError."""
    return PrivateKey(_key_bytes(pem, PRIVATE_LABEL, PRIVATE_PREFIX))


def load_public_pem(pem):
    """The public key in a PEM (bytes or text), or ValueError."""
    return PublicKey(_key_bytes(pem, PUBLIC_LABEL, PUBLIC_PREFIX))


class EdDSA(Algorithm):
    """PyJWT's ``EdDSA`` with these keys (its own needs ``cryptography``'s)."""

    def prepare_key(self, key):
        if not isinstance(key, (PrivateKey, PublicKey)):
            raise jwt.InvalidKeyError("an Ed25519 key of protocol/ed25519.py is needed")
        return key

    def sign(self, msg, key):
        return sign(key, msg)

    def verify(self, msg, key, sig):
        return verify(public_key(key) if isinstance(key, PrivateKey) else key, sig, msg)

    @staticmethod
    def to_jwk(key_obj, as_dict=False):
        raise NotImplementedError("Branchline's keys travel as PEM")

    @staticmethod
    def from_jwk(jwk):
        raise NotImplementedError("Branchline's keys travel as PEM")


def _signatures():
    signatures = jwt.PyJWS(algorithms=[])       # no other algorithm is ever accepted
    signatures.register_algorithm(ALGORITHM, EdDSA())
    return signatures


JWS = _signatures()
