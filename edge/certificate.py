"""The edge's TLS certificate on the LAN: the one configured (``tls_cert``/``tls_key``)
or one it makes itself. This runs as a short-lived process of its own
(``python -m edge.certificate``, asked and answered in JSON by edge/tls.py), so the
edge's process never loads ``cryptography``.

A made certificate is self-signed: ECDSA P-256, subject alt names for the box's host
name, its ``.local`` name and the addresses it announces, valid CERT_DAYS. It lives in
``<data_dir>/keys/tls/`` and is renewed with the same key when it comes within
RENEW_DAYS of expiry or no longer names the box's addresses, so an app that pins the
key (``spki``) keeps working; the certificate's own SHA-256 ``fingerprint`` is what
TXT records, ``/pusher/broadcast-settings`` and ``branchline-edge discover`` show.
"""

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .tls import Certificate, fingerprint

CERT_DAYS = 397
RENEW_DAYS = 30
TLS_DIR = "tls"
CERT_FILE, KEY_FILE = "edge-cert.pem", "edge-key.pem"


def spki_pin(cert):
    """The SHA-256 of a certificate's SubjectPublicKeyInfo, base64 (pins survive renewal)."""
    info = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(info).digest()).decode("ascii")


def _describe(cert_path, key_path, generated):
    with open(cert_path, "rb") as fh:
        cert = x509.load_pem_x509_certificate(fh.read())
    return Certificate(cert_path, key_path, fingerprint(cert.public_bytes(
        serialization.Encoding.DER)), spki_pin(cert), cert.not_valid_after_utc.replace(
            tzinfo=None), generated)


def _alt_names(names, addresses):
    entries = [x509.DNSName(n) for n in dict.fromkeys(n for n in names if n)]
    for address in dict.fromkeys(addresses):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(address.split("%")[0])))
        except ValueError:
            continue
    return entries


def _write_private(path, data):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _key(key_path):
    """The edge's TLS key: the one already made (so pins survive), else a new one."""
    if os.path.exists(key_path):
        with open(key_path, "rb") as fh:
            return serialization.load_pem_private_key(fh.read(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    _write_private(key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return key


def _issue(cert_path, key_path, common_name, alt_names, now):
    key = _key(key_path)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "edge"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Branchline edge")])
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))


def _due(cert_path, alt_names, now):
    """Why the made certificate must be (re)issued, or None."""
    if not os.path.exists(cert_path):
        return "none yet"
    with open(cert_path, "rb") as fh:
        cert = x509.load_pem_x509_certificate(fh.read())
    if cert.not_valid_after_utc.replace(tzinfo=None) - now < datetime.timedelta(days=RENEW_DAYS):
        return "expires on %s" % cert.not_valid_after_utc.date()
    try:
        named = set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        named = set()
    if not set(alt_names) <= named:
        return "names changed"
    return None


def ensure(tls_cert, tls_key, keys_dir, *, names, addresses, now):
    """(Certificate, reason it was made or renewed now, or None): the configured
    certificate, else the one made in ``keys_dir/tls`` (made, or renewed with the
    same key, when due)."""
    if tls_cert:
        if not tls_key:
            raise SystemExit("tls_cert is set but tls_key is not")
        return _describe(tls_cert, tls_key, False), None
    folder = os.path.join(keys_dir, TLS_DIR)
    os.makedirs(folder, exist_ok=True)
    cert_path, key_path = os.path.join(folder, CERT_FILE), os.path.join(folder, KEY_FILE)
    alt_names = _alt_names(names, addresses)
    reason = _due(cert_path, alt_names, now)
    if reason:
        _issue(cert_path, key_path, names[0] if names else "edge", alt_names, now)
    return _describe(cert_path, key_path, True), reason


def main():
    """Answer edge/tls.py: the request as JSON on stdin, the certificate on stdout."""
    asked = json.load(sys.stdin)
    cert, reason = ensure(asked["tls_cert"], asked["tls_key"], asked["keys_dir"],
                          names=asked["names"], addresses=asked["addresses"],
                          now=datetime.datetime.fromisoformat(asked["now"]))
    json.dump({"certificate": cert.to_json(), "reason": reason}, sys.stdout)


if __name__ == "__main__":
    main()
