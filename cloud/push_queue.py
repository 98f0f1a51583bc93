"""The cloud's persistent push queue: what is still to push, and the record of what was.

A notification enters the queue in the transaction that stores it, whatever wrote it (a
handler at the cloud, or an edge's batch applied by sync/ingest.py): a trigger on
``notifications`` adds its id to ``push_notices``. ``pending_notices`` and ``plan`` turn a
notice into one ``push_deliveries`` row per device of the notification's user (unique per
notification and device, so a batch sync repeats, or a plan redone after a crash, adds
nothing): ``pending`` to send, ``expired`` when the notification reached the cloud older
than its type's time to live, ``skipped`` for a device connected to the WebSocket.
``due`` hands the sender the pending rows whose time has come; ``record_all`` stores
attempts' outcomes and their lines of the delivery log (``push_log``, fed to the branch's
edge). Every function runs in the cloud's Store thread.
"""

import datetime
import random

import peewee

from protocol import migrations, models, push, push_tokens
from protocol.database import database, is_sqlite

NOTICE_TRIGGER = "bl_push_notice"
_TRIGGER_SQL = """CREATE TRIGGER %s AFTER INSERT ON notifications BEGIN
INSERT OR IGNORE INTO push_notices (notification_id, created_at)
VALUES (NEW.id, strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now'));
END""" % NOTICE_TRIGGER

PLAN_BATCH = 200


_POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION %s() RETURNS trigger
LANGUAGE plpgsql AS $notice$
BEGIN
    INSERT INTO push_notices (notification_id, created_at)
    VALUES (NEW.id, now() AT TIME ZONE 'UTC') ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$notice$""" % NOTICE_TRIGGER
_POSTGRES_TRIGGER = ("CREATE TRIGGER %s AFTER INSERT ON notifications FOR EACH ROW "
                     "EXECUTE FUNCTION %s()" % (NOTICE_TRIGGER, NOTICE_TRIGGER))


def install_trigger(db):
    """(Re)create the trigger that queues every new notification; run at the cloud's start
    (SQLite's syntax, as sync/capture.py's triggers are; on PostgreSQL a plpgsql
    function, as sync/postgres.py's, made by one of the cloud's processes at a time)."""
    if is_sqlite(db):
        with db.atomic():
            db.execute_sql("DROP TRIGGER IF EXISTS %s" % NOTICE_TRIGGER)
            db.execute_sql(_TRIGGER_SQL)
        return
    with migrations.exclusive(db), db.atomic():
        db.execute_sql(_POSTGRES_FUNCTION)
        db.execute_sql("DROP TRIGGER IF EXISTS %s ON notifications" % NOTICE_TRIGGER)
        db.execute_sql(_POSTGRES_TRIGGER)


def publish_key(public_key, now):
    """Keep the VAPID public key in push_keys (fed to every edge) when it changed."""
    key = models.PushKey
    row = key.select().order_by(key.id.desc()).first()
    if row is None:
        key.create(vapid_public_key=public_key, created_at=now, updated_at=now)
    elif row.vapid_public_key != public_key:
        key.update(vapid_public_key=public_key, updated_at=now).where(
            key.id == row.id).execute()


def pending_notices(limit=PLAN_BATCH):
    """Notices to plan, oldest first: [{notification_id, user_id}] (``plan`` reads the
    rest); a notice whose notification is gone is dropped."""
    notice, n = models.PushNotice, models.Notification
    rows = list(notice.select(notice.notification_id, n.user_id.alias("user_id"))
                .join(n, peewee.JOIN.LEFT_OUTER, on=(n.id == notice.notification_id))
                .order_by(notice.created_at).limit(limit).dicts())
    gone = [r["notification_id"] for r in rows if r["user_id"] is None]
    if gone:
        notice.delete().where(notice.notification_id.in_(gone)).execute()
    return [r for r in rows if r["user_id"] is not None]


def _line(delivery, outcome, detail="", status_code=None, now=None):
    """An unsaved push_log row about ``delivery`` (written together: models.insert_all)."""
    return models.PushLog(notification_id=delivery["notification_id"],
                          branch=delivery["branch_id"], user_id=delivery["user_id"],
                          device_token_id=delivery["device_token_id"],
                          platform=delivery["platform"], outcome=outcome,
                          status_code=status_code, detail=detail,
                          created_at=now, updated_at=now)


def plan(notices, connected, now):
    """Queue each notice's devices (connected: notification id -> device ids connected to
    the user's channel, skipped) and drop the notices; answers how many are pending."""
    n, token, delivery = models.Notification, models.DeviceToken, models.PushDelivery
    queued, rows, lines = 0, [], []
    for item in notices:
        notification = n.get_or_none(n.id == item["notification_id"])
        models.PushNotice.delete().where(
            models.PushNotice.notification_id == item["notification_id"]).execute()
        if notification is None:
            continue
        ttl = push.ttl_for(notification.type)
        expires = notification.created_at + datetime.timedelta(seconds=ttl)
        skip = connected.get(notification.id, set())
        planned = {row.device_token_id for row in delivery.select(delivery.device_token_id)
                   .where(delivery.notification_id == notification.id)}
        for t in token.select().where(token.user == notification.user_id):
            if t.id in planned:
                continue            # planned before (a crash between plan and its end)
            fields = {"notification_id": notification.id, "device_token_id": t.id,
                      "user_id": notification.user_id, "branch_id": notification.branch_id,
                      "platform": t.platform or (
                          "web" if push_tokens.looks_like_subscription(t.token) else "android")}
            if expires <= now:
                status, outcome = "expired", push.EXPIRED
                detail = ("reached the cloud %d s after it was raised; its time to live is "
                          "%d s" % ((now - notification.created_at).total_seconds(), ttl))
            elif t.device_id and t.device_id in skip:
                status, outcome = "skipped", push.SKIPPED
                detail = "the device is connected to the WebSocket"
            else:
                status, outcome, detail = "pending", None, ""
            rows.append(delivery(**fields, token=t.token, status=status, next_attempt_at=now,
                                 expires_at=expires, created_at=now, updated_at=now))
            if outcome:
                lines.append(_line(fields, outcome, detail, now=now))
            else:
                queued += 1
    _insert(rows)
    _insert(lines)
    return queued


def _insert(rows, chunk=100):
    for start in range(0, len(rows), chunk):
        models.insert_all(rows[start:start + chunk])


def due(now, limit, busy):
    """(Pending deliveries whose time has come, oldest first, not in ``busy`` (ids being
    sent), each with its notification's payload; the time of the next later one or None)."""
    d, n = models.PushDelivery, models.Notification
    pending = d.select().where((d.status == "pending") & (d.next_attempt_at <= now))
    if busy:
        pending = pending.where(d.id.not_in(list(busy)))
    rows, payloads, lines = [], {}, []
    for row in pending.order_by(d.next_attempt_at, d.id).limit(limit):
        if row.notification_id not in payloads:
            notification = n.get_or_none(n.id == row.notification_id)
            payloads[row.notification_id] = notification and push.payload(notification)
        if payloads[row.notification_id] is None:
            d.update(status="failed", updated_at=now).where(d.id == row.id).execute()
            lines.append(_line(_fields(row), push.FAILED, "the notification was deleted",
                               now=now))
            continue
        rows.append(dict(_fields(row), id=row.id, token=row.token, attempts=row.attempts,
                         expires_at=row.expires_at, payload=payloads[row.notification_id]))
    _insert(lines)
    later = (d.select(d.next_attempt_at).where((d.status == "pending") &
                                               (d.next_attempt_at > now))
             .order_by(d.next_attempt_at).limit(1).scalar())
    return rows, later


def _fields(row):
    return {"notification_id": row.notification_id, "branch_id": row.branch_id,
            "user_id": row.user_id, "device_token_id": row.device_token_id,
            "platform": row.platform}


def _outcome(delivery, result, now, max_attempts):
    """(the delivery's new fields, its log line) for one attempt's ``result``
    (cloud/webpush.py Result); a dead token is deleted here."""
    d = models.PushDelivery
    attempts = delivery["attempts"] + 1
    update = {"attempts": attempts, "updated_at": now}
    if result.kind == "sent":
        update["status"], outcome = "sent", push.SENT
    elif result.kind == "gone":
        update["status"], outcome = "removed", push.TOKEN_REMOVED
        token = models.DeviceToken
        token.delete().where(token.id == delivery["device_token_id"]).execute()
        d.update(status="removed", updated_at=now).where(
            (d.device_token_id == delivery["device_token_id"]) &
            (d.status == "pending") & (d.id != delivery["id"])).execute()
    elif result.kind == "expired":
        update["status"], outcome = "expired", push.EXPIRED
    elif result.kind == "retry" and attempts < max_attempts:
        wait = result.retry_after if result.retry_after is not None else backoff(attempts)
        at = now + datetime.timedelta(seconds=wait)
        if at >= delivery["expires_at"]:
            update["status"], outcome = "expired", push.EXPIRED
            result = result.but("%s; its time to live ends before a retry" % result.detail)
        else:
            update["status"], update["next_attempt_at"], outcome = "pending", at, push.RETRY
            result = result.but("%s; retry in %.1f s" % (result.detail, wait))
    else:
        update["status"], outcome = "failed", push.FAILED
        if result.kind == "retry":
            result = result.but("%s; gave up after %d attempts" % (result.detail, attempts))
    return update, _line(delivery, outcome, result.detail, result.status_code, now=now)


def record_all(outcomes, now, max_attempts):
    """Store the attempts' outcomes, [(delivery, Result)], and their log lines, in one
    transaction: the first attempts that were sent in one statement, the others each."""
    d = models.PushDelivery
    lines, first_sent = [], []
    with database.atomic():
        for delivery, result in outcomes:
            update, line = _outcome(delivery, result, now, max_attempts)
            lines.append(line)
            if update["status"] == "sent" and update["attempts"] == 1:
                first_sent.append(delivery["id"])
            else:
                d.update(**update).where(d.id == delivery["id"]).execute()
        if first_sent:
            d.update(status="sent", attempts=1, updated_at=now).where(
                d.id.in_(first_sent)).execute()
        _insert(lines)


BACKOFF_MIN, BACKOFF_MAX = 1.0, 300.0


def backoff(attempts):
    """Seconds before retry number ``attempts`` when the service named no Retry-After."""
    return min(BACKOFF_MAX, BACKOFF_MIN * 2 ** (attempts - 1)) * random.uniform(0.8, 1.4)


