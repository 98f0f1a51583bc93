"""Password hashes: scrypt (hashlib), parameters stored with each hash."""

import base64
import hashlib
import hmac
import secrets

N, R, P = 2 ** 14, 8, 1


def _b64(raw):
    return base64.b64encode(raw).decode("ascii")


def hash_password(password):
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return "scrypt$%d$%d$%d$%s$%s" % (N, R, P, _b64(salt), _b64(digest))


def verify_password(password, stored):
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt),
                                n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Compared against when the email is unknown, so a miss costs as much as a hit:
# the hash of a password nobody kept, with today's parameters (hashing one at
# import was an eighth of a server's start).
DUMMY_HASH = "scrypt$%d$%d$%d$%s$%s" % (N, R, P, "3HZmkMRBLi0d3I5PzUMing==",
                                      "eRwV/aKCfgF0zzvXBVlgjOHY+VABGwPpaf1xFkqixic=")
