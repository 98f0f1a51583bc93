"""In-app notifications and device-token registration (POS)."""

from typing import Literal, Optional, Union

import pydantic

from .. import floor_shapes, notifications, push, push_tokens
from ..validation import Body, FreeObject, Retryable
from .base import APIHandler, path_id


class RegisterTokenBody(Body):
    # An FCM token, or a browser's PushSubscription (its JSON text, or the object).
    token: Union[pydantic.constr(min_length=1, max_length=4096), FreeObject]
    platform: Optional[Literal["ios", "android", "web"]] = None
    device_id: Optional[str] = pydantic.Field(None, max_length=191)

    @pydantic.field_validator("platform", mode="before")
    @classmethod
    def _lower(cls, value):
        if isinstance(value, str):
            if len(value) > 20:
                raise ValueError("The platform field must not be greater than 20 characters.")
            return value.strip().lower() or None
        return value


class TestNotificationBody(Retryable):
    title: str = pydantic.Field(min_length=1, max_length=255)
    body: str = pydantic.Field(min_length=1, max_length=2000)
    data: Optional[FreeObject] = None


class PageQuery(Body):
    page: int = pydantic.Field(1, ge=1, le=1_000_000)


class NotificationsHandler(APIHandler):
    responses = {"get": floor_shapes.NotificationPage}
    queries = {"get": PageQuery}
    tags = ("notifications",)

    async def get(self):
        """The user's notifications, newest first, 20 a page (Laravel paginator) plus
        unread_count; each {id, type, title, body, data{title, body, data}, read_at,
        created_at}."""
        page = self.query().page
        self.write_json(await self.actor_run(notifications.list_for, page, self.page_path()))


class ReadHandler(APIHandler):
    responses = {"post": floor_shapes.Read}
    once = ("post",)
    tags = ("notifications",)

    async def post(self, notification_id):
        """Mark one of the user's notifications read (no body): {read: true}; another
        user's is 404."""
        await self.write_once(notifications.mark_read, int(notification_id), self.now())


def checked(registration, settings):
    """A device registration (RegisterTokenBody) with its token checked and in the
    form it is kept (protocol/push_tokens.py): every route that registers a device."""
    platform, token = push_tokens.normalise(registration.platform, registration.token,
                                            settings.push_http_endpoints)
    return registration.model_copy(update={"platform": platform, "token": token})


class RegisterTokenHandler(APIHandler):
    responses = {"post": floor_shapes.Saved}
    once = ("post",)
    bodies = {"post": RegisterTokenBody}
    tags = ("notifications",)

    async def post(self):
        """Register the device's push token (platform ios, android or web; device_id):
        one row per user and device, and a token registered again by another user moves
        to that user. A web token is the browser's PushSubscription (JSON text or object:
        endpoint, keys.p256dh, keys.auth; https unless the node allows http); android and
        ios take an FCM registration token. Answers {saved: true}."""
        body = checked(self.body(), self.node.settings)
        await self.write_once(notifications.register_token, body, self.now())


class TestNotificationHandler(APIHandler):
    responses = {"post": floor_shapes.Sent}
    once = ("post",)
    bodies = {"post": TestNotificationBody}
    tags = ("notifications",)

    async def post(self):
        """Send the caller a notification {title, body, data?}: {sent: true}."""
        body = self.body()
        await self.write_once(notifications.send_test, body, self.now())


class PushSettingsHandler(APIHandler):
    responses = {"get": floor_shapes.PushSettingsAnswer}
    tags = ("notifications",)

    async def get(self):
        """What an app needs to subscribe to push, never a secret: {data:
        {vapid_public_key (base64url, the applicationServerKey; null until the cloud's key
        has reached this node), web_push_enabled, platforms}}."""
        key = await self.run(push.vapid_public_key)
        self.write_json({"data": {"vapid_public_key": key, "web_push_enabled": key is not None,
                                  "platforms": ["web", "android", "ios"]}})


class DeliveriesHandler(APIHandler):
    responses = {"get": floor_shapes.PushLogAnswer}
    tags = ("notifications",)

    async def get(self, notification_id):
        """A notification's push delivery log (managers and owners; the caller's branch):
        {notification_id, type, user_id, data: [{id, device_token_id, platform, outcome
        (sent, retry, failed, expired, token_removed, skipped), status_code, detail, at}]},
        oldest first. Written at the cloud, which pushes; an edge shows what was fed to it."""
        self.write_json(await self.actor_run(push.log_for, int(notification_id)))


default_handlers = [
    (r"/pos/notifications", NotificationsHandler),
    (r"/pos/notifications/register-token", RegisterTokenHandler),
    (r"/pos/notifications/test", TestNotificationHandler),
    (r"/pos/notifications/push-settings", PushSettingsHandler),
    (r"/pos/notifications/%s/deliveries" % path_id("notification_id"), DeliveriesHandler),
    (r"/pos/notifications/%s/read" % path_id("notification_id"), ReadHandler),
]
