"""Idempotency-Key: a retried request gets the first answer, and nothing is done twice.

``once`` runs a domain operation and stores its answer in the same transaction,
keyed by (user, key). A repeat with the same body gets the stored answer; a
repeat with another body is a 422. An operation that fails stores nothing (its
transaction rolled back), so a retry runs it again.
"""

import hashlib

from . import models, wire
from .database import Prepared, database, lock_key, slot
from .errors import ValidationFailed

MAX_KEY_LENGTH = 255


def request_hash(method, path, body):
    digest = hashlib.sha256()
    digest.update(method.encode())
    digest.update(b"\0")
    digest.update(path.encode())
    digest.update(b"\0")
    digest.update(body or b"")
    return digest.hexdigest()


def check_key(key):
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed.field(
            "Idempotency-Key", "The Idempotency-Key header must be 1 to %d characters."
            % MAX_KEY_LENGTH)


# Read on every keyed write: built once (database.Prepared).
_RECORD = Prepared(lambda: models.IdempotencyRecord.select().where(
    (models.IdempotencyRecord.user == slot("user")) &
    (models.IdempotencyRecord.key == slot("key"))))


def once(user_id, key, method, path, fingerprint, fn, *args, status=200):
    """(status, body) of fn(*args), or of the first run under this key."""
    with database.atomic():
        # Two processes (a retry landing on another cloud process) take turns: the
        # second finds the first's answer.
        lock_key("idempotency:%d:%s" % (user_id, key))
        record = _RECORD.first(models.IdempotencyRecord, user=user_id, key=key)
        if record is not None:
            if record.request_hash != fingerprint:
                raise ValidationFailed.field(
                    "Idempotency-Key", "This Idempotency-Key was already used for a "
                    "different request.")
            return record.status_code, wire.loads(record.response_body)
        body = fn(*args)
        models.insert_all([models.IdempotencyRecord(
            user=user_id, key=key, method=method, path=path, request_hash=fingerprint,
            status_code=status, response_body=wire.dumps(body))])
        return status, body
