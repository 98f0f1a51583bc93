"""What a push to a phone says and how long it may wait, and the delivery log's reading.

The cloud pushes every notification to its user's devices (cloud/push_sender.py); the
rules every node agrees on are here:

- ``TTL_SECONDS``: how old a notification may be when it reaches the cloud and still be
  pushed (an "order ready" raised at an edge during an outage is dropped and logged
  ``expired`` after 10 minutes, never delivered late); also the TTL the push services get.
- ``payload``: the small JSON a device receives (title, body, notification id, type and
  the deep-link ids of its data), never a secret; ``shrink`` makes it fit a size.
- ``log_for``: a notification's delivery log, for managers (the cloud writes it; the
  branch's edge holds the copy fed to it).
"""

import orjson

from . import models, permissions
from .errors import Forbidden, NotFound

TTL_SECONDS = {"order_ready": 10 * 60, "new_reservation": 24 * 3600,
               "new_online_order": 60 * 60, "delivery_assigned": 60 * 60, "test": 60 * 60}
DEFAULT_TTL = 60 * 60

SENT, RETRY, FAILED, EXPIRED, TOKEN_REMOVED, SKIPPED = (
    "sent", "retry", "failed", "expired", "token_removed", "skipped")

# Web Push carries at most 4096 bytes of ciphertext (RFC 8291: 4096 - 86 of header and
# padding for the plaintext); FCM's data message 4 KB.
MAX_PAYLOAD_BYTES = 3000
DEEP_LINK_KEYS = ("order_id", "order_number", "kot_id", "kot_number", "table_id",
                  "reservation_id", "delivery_executive_id", "placed_via", "event_key")


def ttl_for(kind):
    return TTL_SECONDS.get(kind, DEFAULT_TTL)


def payload(notification):
    """The push of a notification: {title, body, notification_id, type, data{ids}}."""
    data = {k: v for k, v in (notification.data or {}).items()
            if k in DEEP_LINK_KEYS and isinstance(v, (str, int, float, bool))}
    return {"title": notification.title, "body": notification.body or "",
            "notification_id": str(notification.id), "type": notification.type,
            "data": {k: str(v) for k, v in data.items()}}


def encode(message):
    return orjson.dumps(message)


def shrink(message, limit):
    """message's bytes cut to fit ``limit``: its data dropped first, then its body
    shortened; None when even the title, id and type do not fit."""
    body = encode(message)
    if len(body) <= limit:
        return body
    message = dict(message, data={})
    text = message["body"]
    while True:
        body = encode(message)
        if len(body) <= limit:
            return body
        if not text:
            return None
        text = text[:max(0, len(text) - (len(body) - limit) - 1)]
        message["body"] = text + "…" if text else ""


def log_line(line):
    return {"id": line.id, "notification_id": line.notification_id,
            "device_token_id": line.device_token_id, "platform": line.platform,
            "outcome": line.outcome, "status_code": line.status_code, "detail": line.detail,
            "at": line.created_at}


def log_for(actor, notification_id):
    """GET /pos/notifications/{id}/deliveries: every push attempt for one notification of
    the caller's branch, oldest first (managers and owners: it names their staff's
    devices)."""
    if not permissions.is_manager(actor.roles):
        raise Forbidden("Only managers and owners see push delivery logs.")
    n = models.Notification
    notification = n.get_or_none((n.id == notification_id) & (n.branch == actor.branch_id))
    if notification is None:
        raise NotFound("Notification not found.")
    log = models.PushLog
    lines = (log.select().where(log.notification_id == notification_id)
             .order_by(log.created_at, log.id))
    return {"notification_id": notification.id, "type": notification.type,
            "user_id": notification.user_id, "data": [log_line(line) for line in lines]}


def recent_log(branch_id=None, limit=20):
    """The latest push log lines (of branch_id, or all this node holds: at an edge, its
    branch's), newest first (the edge's status page)."""
    log = models.PushLog
    lines = log.select()
    if branch_id is not None:
        lines = lines.where(log.branch == branch_id)
    lines = lines.order_by(log.created_at.desc(), log.id.desc()).limit(limit)
    return [log_line(line) for line in lines]


def vapid_public_key():
    """The cloud's VAPID public key (base64url), as fed to this node, or None."""
    row = models.PushKey.select().order_by(models.PushKey.id.desc()).first()
    return row.vapid_public_key if row else None
