"""In-app notifications and the device tokens push is delivered to.

``notify`` is the one operation that creates a notification: it stores the row
and emits it on the user's channel as Laravel's BroadcastNotificationCreated
(payload: the notification's title, body and data plus ``id`` and ``type``,
what Laravel Echo's ``.notification()`` listens for). Delivery hooks onto that
event: the WebSocket hub now, push later. The branch's own events call the
helpers below (an order's KOT is ready, an order arrived from the customer app).

Also here: a user's notifications (newest first, with the unread count),
marking one read, and registering a device token (``ai_device_tokens``: one
row per user and device, and one row per token, so a token that moves to
another user moves with it). Plain functions run in a Store thread.
"""

from . import events, models, permissions
from .pages import paginate
from .database import database
from .errors import NotFound


def notify(user_id, branch_id, type, title, body, data=None, *, now=None):
    """Store a notification for user_id and emit it on the user's channel."""
    stamp = {"created_at": now, "updated_at": now} if now is not None else {}
    notification = models.Notification.create(user=user_id, branch=branch_id, type=type,
                                              title=title, body=body or "", data=data or {},
                                              **stamp)
    events.emit(events.user_channel(user_id), events.NOTIFICATION_EVENT,
                dict(_laravel_data(notification), id=notification.id, type=type))
    return notification


# The event a notification's type stands for, as apps key their alert sounds on it.
EVENT_KEYS = {"order_ready": "order.ready", "new_online_order": "order.created",
              "new_reservation": "reservation.created"}


def _laravel_data(notification):
    """What Laravel keeps in a notification's ``data`` column, with the ``type`` and
    ``event_key`` apps read from it (and from the data inside it)."""
    kind = {"type": notification.type,
            "event_key": EVENT_KEYS.get(notification.type, notification.type)}
    return {"title": notification.title, "body": notification.body, **kind,
            "data": {**kind, **(notification.data or {})}}


def shape(notification):
    return {"id": notification.id, "type": notification.type, "title": notification.title,
            "body": notification.body, "data": _laravel_data(notification),
            "read_at": notification.read_at, "created_at": notification.created_at}


# --- The branch's events ----------------------------------------------------------------

def branch_users(branch_id, roles):
    """The ids of the branch's active users holding one of roles."""
    user, link, user_role, role = (models.User, models.UserBranch, models.UserRole,
                                   models.Role)
    return [u.id for u in user.select(user.id).distinct()
            .join(link, on=(link.user == user.id))
            .join_from(user, user_role, on=(user_role.user == user.id))
            .join(role, on=(user_role.role == role.id))
            .where((link.branch == branch_id) & user.is_active & role.name.in_(list(roles)))
            .order_by(user.id)]


def kot_ready(kot, now):
    """A KOT became food_ready: tell the order's waiter."""
    order = models.Order.get_by_id(kot.order_id)
    if order.waiter_id is None:
        return
    place = (models.KotPlace.get_or_none(models.KotPlace.id == kot.kitchen_place_id)
             if kot.kitchen_place_id else None)
    table = (models.Table.get_or_none(models.Table.id == order.table_id)
             if order.table_id else None)
    body = "KOT #%d%s is ready%s." % (kot.kot_number, " (%s)" % place.name if place else "",
                                       " for table %s" % table.table_code if table else "")
    notify(order.waiter_id, order.branch_id, "order_ready",
           "Order %s is ready" % order.formatted_order_number, body,
           {"order_id": order.id, "order_number": order.formatted_order_number,
            "kot_id": kot.id, "kot_number": kot.kot_number,
            "table_id": order.table_id}, now=now)


def new_online_order(order, now):
    """An order arrived from the customer app: tell the branch's managers and owners."""
    customer = (models.Customer.get_or_none(models.Customer.id == order.customer_id)
                if order.customer_id else None)
    title = "New online order %s" % order.formatted_order_number
    body = "%s order%s, total %s." % (order.order_type_name,
                                      " from %s" % customer.name if customer else "", order.total)
    for user_id in branch_users(order.branch_id, permissions.MANAGE):
        notify(user_id, order.branch_id, "new_online_order", title, body,
               {"order_id": order.id, "order_number": order.formatted_order_number,
                "placed_via": order.placed_via}, now=now)


# --- A user's notifications ----------------------------------------------------------------

def _mine(actor):
    return models.Notification.select().where(models.Notification.user == actor.user_id)


def list_for(actor, page, path):
    """GET /pos/notifications: a Laravel paginator, newest first, plus unread_count."""
    n = models.Notification
    query = _mine(actor).order_by(n.created_at.desc(), n.id.desc())
    answer = paginate(query, page, shape, path)
    answer["unread_count"] = _mine(actor).where(n.read_at.is_null()).count()
    return answer


def mark_read(actor, notification_id, now):
    """POST /pos/notifications/{id}/read; another user's notification is not found."""
    n = models.Notification
    with database.atomic():
        notification = _mine(actor).where(n.id == notification_id).first()
        if notification is None:
            raise NotFound("Notification not found.")
        if notification.read_at is None:
            n.update(read_at=now, updated_at=now).where(n.id == notification.id).execute()
        return {"read": True}


def send_test(actor, body, now):
    """POST /pos/notifications/test: a notification for the caller."""
    with database.atomic():
        notify(actor.user_id, actor.branch_id, "test", body.title, body.body, body.data,
               now=now)
        return {"sent": True}


# --- Device tokens ---------------------------------------------------------------------------

def _owner(actor):
    """The column a device's token belongs to, and its value: a user's, or a rider's
    (protocol/partner.py)."""
    rider = getattr(actor, "executive_id", None)
    return ("delivery_executive", rider) if rider else ("user", actor.user_id)


def register_token(actor, body, now):
    """POST /pos/notifications/register-token (and the rider app's): upsert the
    caller's row for the device (or for the token when no device is named); the token
    leaves any other row."""
    token = models.DeviceToken
    column, owner = _owner(actor)
    with database.atomic():
        row = None
        if body.device_id:
            row = token.get_or_none((getattr(token, column) == owner) &
                                    (token.device_id == body.device_id))
        if row is None:
            row = token.get_or_none(token.token == body.token)
        fields = {"user": actor.user_id, "delivery_executive": getattr(actor, "executive_id",
                                                                       None),
                  "restaurant": actor.restaurant_id, "branch": actor.branch_id,
                  "token": body.token, "updated_at": now}
        if body.platform:
            fields["platform"] = body.platform
        if body.device_id:
            fields["device_id"] = body.device_id
        if row is None:
            row = token.create(created_at=now, **fields)
        else:
            token.update(**fields).where(token.id == row.id).execute()
        token.delete().where((token.token == body.token) & (token.id != row.id)).execute()
        return {"saved": True}


def unregister_token(actor, device_id=None, value=None):
    """Forget the caller's device (by device_id) or token; answers how many went."""
    token = models.DeviceToken
    column, owner = _owner(actor)
    if not device_id and not value:
        return 0
    which = (token.device_id == device_id) if device_id else (token.token == value)
    return token.delete().where((getattr(token, column) == owner) & which).execute()
