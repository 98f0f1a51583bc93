"""The edge's TLS on the LAN as its process holds it: which certificate it serves and
the SSLContext serving it.

The certificate is made, renewed or read by edge/certificate.py in a short-lived
process of its own (``python -m edge.certificate``, a tenth of a second at start-up,
twice a day and when the addresses change), so the edge's long-lived process never
loads ``cryptography`` and its own OpenSSL (about 9 MB it would keep for months;
edge/launch.py marks it absent).
"""

import dataclasses
import datetime
import hashlib
import json
import os
import ssl
import subprocess
import sys

MAKER_SECONDS = 120
# The folder holding the edge package: the maker runs with it first on its path and
# without the working directory (-P), so no other "edge" is ever run in its place.
PACKAGES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CertificateError(Exception):
    """The certificate could not be made or read (the message says why)."""


@dataclasses.dataclass(frozen=True)
class Certificate:
    cert_path: str
    key_path: str
    fingerprint: str      # SHA-256 of the certificate (DER), "AB:CD:..."
    spki: str             # SHA-256 of its public key, base64 ("sha256/..." pins)
    not_after: datetime.datetime
    generated: bool       # made here (renewed here) rather than configured

    def to_json(self):
        return dict(dataclasses.asdict(self), not_after=self.not_after.isoformat())

    @classmethod
    def from_json(cls, data):
        return cls(**dict(data, not_after=datetime.datetime.fromisoformat(data["not_after"])))


def fingerprint(der):
    """The SHA-256 fingerprint of a DER certificate, as browsers and Node show it."""
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def ensure(settings, keys_dir, *, names, addresses, now):
    """(Certificate, why it was made or renewed now, or None): the configured certificate
    (``tls_cert``/``tls_key``), else the one made in ``keys_dir/tls``, made, or renewed
    with the same key, when due (edge/certificate.py, in a process of its own)."""
    asked = {"tls_cert": settings.tls_cert, "tls_key": settings.tls_key,
             "keys_dir": keys_dir, "names": list(names), "addresses": list(addresses),
             "now": now.isoformat()}
    path = os.pathsep.join(p for p in (PACKAGES, os.environ.get("PYTHONPATH")) if p)
    try:
        done = subprocess.run([sys.executable, "-P", "-m", "edge.certificate"],
                              input=json.dumps(asked), capture_output=True, text=True,
                              timeout=MAKER_SECONDS, env=dict(os.environ, PYTHONPATH=path))
    except (OSError, subprocess.SubprocessError) as exc:
        raise CertificateError("could not run edge.certificate: %s" % exc) from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise CertificateError(lines[-1] if lines else "edge.certificate failed")
    try:
        answer = json.loads(done.stdout)
        return Certificate.from_json(answer["certificate"]), answer["reason"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CertificateError("edge.certificate answered %r (%s)" % (
            done.stdout[:200], exc)) from None


def server_context(certificate):
    """An SSLContext serving ``certificate`` (reload it into the same context with
    ``load``: new connections get the renewed certificate)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    load(context, certificate)
    return context


def load(context, certificate):
    context.load_cert_chain(certificate.cert_path, certificate.key_path)
