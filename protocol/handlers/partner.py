"""The rider app's routes (``/partner/...``; protocol/partner.py has the rules).

A rider signs in with their login code (POST /partner/auth/login) and gets a token
that expires, signed like a user's (protocol/tokens.py, ``kind: "rider"``), which
only these routes accept. The module's apps send the code itself in ``X-PARTNER-CODE``
with every request instead: accepted too. Both are rate limited: five failures a
minute per code and client, then 429 with Retry-After (counted by all the cloud's
processes together over PostgreSQL: protocol/ratelimit.py).
"""

import datetime
import hashlib
from typing import Literal, Optional

import pydantic

from .. import accounts, partner
from ..errors import APIError, Forbidden, Unauthenticated, ValidationFailed
from ..partner_shapes import (Located, PartnerDone, PartnerHistory, PartnerLatest,
                              PartnerLoggedIn, PartnerOrderDone, PartnerProfile)
from ..realtime.http import BroadcastAuthHandler
from ..rider_accounts import rider_actor, rider_by_code
from ..tokens import InvalidToken
from ..validation import NOT_BLANK, Body
from .base import APIHandler, path_id
from .delivery import Latitude, Longitude
from .notifications import RegisterTokenBody, checked

CODE_HEADER = "X-PARTNER-CODE"
TOO_MANY = "Too many attempts with this code. Please try again in {seconds} seconds."


class RiderAuth:
    """Who is calling the rider app: a rider of a branch. ``user_id`` is the rider's id
    too, as the author of a command (protocol/commands.py)."""

    def __init__(self, executive_id, branch_id, restaurant_id=None, claims=None, token=None):
        self.executive_id = self.user_id = executive_id
        self.branch_id = branch_id
        self.restaurant_id = restaurant_id
        self.claims = claims
        self.token = token
        self.jti = claims["jti"] if claims else None


def _code_key(code, client):
    return ("partner", hashlib.sha256(code.encode()).hexdigest(), client)


class PartnerHandler(APIHandler):
    tags = ("rider app",)

    async def find_rider(self, code):
        """(rider id, branch id) of a login code, or a 401 (counted against the code and
        client: 429 once they have failed five times in a minute)."""
        code = code.strip().upper()
        key = _code_key(code, self.request.remote_ip)
        limiter = self.node.login_limiter
        await limiter.refuse_spent(key, TOO_MANY)
        found = await self.run(rider_by_code, code, self.node.branch_id) if code else None
        if found is None:
            await limiter.failed(key)
            raise APIError("Invalid partner unique code", status=401)
        return found

    def check_served(self, branch_id):
        if not self.node.serves(branch_id):
            raise Forbidden("This server answers for %s only; sign in at the cloud or at "
                            "your branch's server." % (self.node.branch_name or "its branch"))

    async def _authenticate(self):
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        code = self.request.headers.get(CODE_HEADER, "")
        if scheme.lower() == "bearer" and token.strip():
            try:
                claims = await self.node.verify_token(token.strip())
            except InvalidToken:
                raise Unauthenticated()
            if claims.get("kind") != "rider" or claims["jti"] in self.node.revoked:
                raise Unauthenticated()
            auth = RiderAuth(claims["sub"], claims["bid"], claims["rid"], claims, token.strip())
        elif code.strip():
            auth = RiderAuth(*await self.find_rider(code))
        else:
            raise Unauthenticated()
        self.check_served(auth.branch_id)
        self.auth = auth
        # still a rider here, and active: found once, for the whole request
        self.rider = await self.run(rider_actor, auth.executive_id, auth.branch_id)
        auth.restaurant_id = self.rider.restaurant_id

    def load_actor(self):
        return self.rider

    def idempotency_key(self):
        return None          # the rider's writes repeat safely (a retry is answered as done)


# --- bodies --------------------------------------------------------------------------------

class PartnerLoginBody(Body):
    unique_code: str = pydantic.Field(min_length=1, max_length=64)


class ReportBody(Body):
    status: Literal[partner.ON_THE_WAY]


class LocationBody(Body):
    latitude: Latitude
    longitude: Longitude


class FcmTokenBody(Body):
    fcm_token: str = pydantic.Field(min_length=1, max_length=4096)
    platform: Optional[Literal["ios", "android", "web"]] = None
    device_id: Optional[str] = pydantic.Field(None, max_length=191)


class UnregisterBody(Body):
    """device_id, or token."""
    model_config = pydantic.ConfigDict(json_schema_extra=dict(
        Body.model_config["json_schema_extra"],
        anyOf=[{"required": ["device_id"]}, {"required": ["token"]}]))
    device_id: str = pydantic.Field(None, min_length=1, max_length=191,
                                    json_schema_extra=NOT_BLANK)
    token: str = pydantic.Field(None, min_length=1, max_length=4096, json_schema_extra=NOT_BLANK)


class HistoryQuery(Body):
    page: int = pydantic.Field(1, ge=1, le=1_000_000)
    per_page: int = pydantic.Field(15, ge=1, le=100)


# --- routes --------------------------------------------------------------------------------

THROTTLED = (429,)


class LoginHandler(PartnerHandler):
    public = True
    bodies = {"post": PartnerLoginBody}
    responses = {"post": PartnerLoggedIn}
    statuses = {"post": (401, 403, 429)}

    async def post(self):
        """Sign a rider in with their login code: data {partner (the profile),
        token_type, access_token, expires_in}; the token works on /partner/... only and
        expires. 401 "Invalid partner unique code", 403 for an inactive rider; five
        failures a minute per code and client, then 429 with Retry-After."""
        body = self.body()
        executive_id, branch_id = await self.find_rider(body.unique_code)
        self.check_served(branch_id)
        rider = await self.run(rider_actor, executive_id, branch_id)
        ttl = self.node.settings.token_ttl_hours * 3600
        token = self.node.keyring.issue(
            user_id=executive_id, restaurant_id=rider.restaurant_id, branch_id=branch_id,
            ttl_seconds=ttl, now=self.node.clock.time(), kind="rider")
        self.write_json({"success": True, "message": "Login successful", "data": {
            "partner": await self.run(partner.profile, rider), "token_type": "Bearer",
            "access_token": token, "expires_in": ttl}})


class LogoutHandler(PartnerHandler):
    responses = {"post": PartnerDone}
    statuses = {"post": THROTTLED}

    async def post(self):
        """Sign out: the token this request carries stops working at once (an old app's
        code header has nothing to end)."""
        if self.auth.jti is not None:
            claims = self.auth.claims
            expires = datetime.datetime.fromtimestamp(claims["exp"], datetime.timezone.utc)
            await self.run(accounts.revoke, self.auth.jti, expires.replace(tzinfo=None))
            self.node.store.revoke([self.auth.jti])
        self.write_json({"success": True, "message": "Logout successful", "data": None})


class ProfileHandler(PartnerHandler):
    responses = {"get": PartnerProfile}
    statuses = {"get": THROTTLED}

    async def get(self):
        """The rider: {id, name, phone, phone_code, photo, status (live), branch_id,
        branch {id, name}, current_order_id, location}."""
        self.write_json({"success": True, "message": "Profile retrieved successfully",
                         "data": await self.actor_run(partner.profile)})


class LatestHandler(PartnerHandler):
    responses = {"get": PartnerLatest}
    statuses = {"get": THROTTLED}

    async def get(self):
        """The rider's newest delivery ready for pickup or out for delivery (data null
        when none): the order's id and number, status label, restaurant and customer
        with coordinates, dropETA, distanceToCustomer, instructions, payment {mode,
        amount (what to collect, or the total when prepaid), total, amount_due}, items."""
        self.write_json(await self.actor_run(partner.latest))


class HistoryHandler(PartnerHandler):
    queries = {"get": HistoryQuery}
    responses = {"get": PartnerHistory}
    statuses = {"get": THROTTLED}

    async def get(self):
        """Every order assigned to the rider, newest first (Laravel paginator,
        ?page=, ?per_page= 1-100, 15)."""
        query = self.query()
        self.write_json(await self.actor_run(partner.history, query.page, query.per_page,
                                             self.page_path()))


class OrderAction(PartnerHandler):
    responses = {"post": PartnerOrderDone}
    once = ("post",)
    statuses = {"post": (409, 429)}


class StartHandler(OrderAction):
    async def post(self, order_id):
        """Leave with one of your orders that is ready for pickup: it is out for
        delivery (again: answered as done). 404 for an order not assigned to you, 409
        for one not ready."""
        await self.write_once(partner.start, int(order_id), self.now())


class ReportHandler(OrderAction):
    bodies = {"post": ReportBody}

    async def post(self, order_id):
        """Tell dispatch where you are with an order out for delivery: status on_way or
        reached (delivery.updated with rider_status)."""
        body = self.body()
        await self.write_once(partner.report, int(order_id), body.status, self.now())


class CompleteHandler(OrderAction):
    async def post(self, order_id):
        """Deliver one of your orders that is out for delivery; you are available again.
        409 for one not out for delivery."""
        await self.write_once(partner.complete, int(order_id), self.now())


class LocationHandler(PartnerHandler):
    bodies = {"post": LocationBody}
    responses = {"post": Located}
    once = ("post",)
    statuses = {"post": THROTTLED}

    async def post(self):
        """Your position now (latitude, longitude; both required): what dispatch sees in
        its delivery orders and rider list."""
        body = self.body()
        await self.write_once(partner.locate, body.latitude, body.longitude, self.now())


class FcmTokenHandler(PartnerHandler):
    bodies = {"post": FcmTokenBody}
    responses = {"post": PartnerDone}
    once = ("post",)
    statuses = {"post": THROTTLED}

    async def post(self):
        """Register the push token (fcm_token) of your device, with platform and
        device_id when known."""
        body = self.body()
        device = checked(RegisterTokenBody(token=body.fcm_token, platform=body.platform,
                                           device_id=body.device_id), self.node.settings)
        await self.write_once(partner.register_device, device, self.now())


class DeviceRegisterHandler(PartnerHandler):
    bodies = {"post": RegisterTokenBody}
    responses = {"post": PartnerDone}
    once = ("post",)
    statuses = {"post": THROTTLED}

    async def post(self):
        """Register your device for push: token, platform (ios, android, web),
        device_id."""
        body = checked(self.body(), self.node.settings)
        await self.write_once(partner.register_device, body, self.now())


class DeviceUnregisterHandler(PartnerHandler):
    bodies = {"post": UnregisterBody}
    responses = {"post": PartnerDone}
    once = ("post",)
    statuses = {"post": THROTTLED}

    async def post(self):
        """Stop push to one of your devices: device_id, or token."""
        body = self.body()
        if not body.device_id and not body.token:
            raise ValidationFailed.field("device_id", "Send the device_id or the token.")
        await self.write_once(partner.unregister_device, body.device_id, body.token,
                              self.now())


class ChannelAuthHandler(PartnerHandler, BroadcastAuthHandler):
    statuses = {"post": THROTTLED}

    async def post(self):
        """Authorise the rider's own private channel,
        private-App.Models.DeliveryExecutive.{id} (delivery.assigned, delivery.updated),
        for the rider app's Pusher client (socket_id, channel_name): {auth}. 403 for
        any other channel."""
        await super().post()


ORDER = path_id("order_id")
default_handlers = [
    ("/partner/auth/login", LoginHandler),
    ("/partner/auth/logout", LogoutHandler),
    ("/partner/profile", ProfileHandler),
    ("/partner/orders/latest", LatestHandler),
    ("/partner/orders/history", HistoryHandler),
    ("/partner/orders/%s/start" % ORDER, StartHandler),
    ("/partner/orders/%s/status" % ORDER, ReportHandler),
    ("/partner/orders/%s/complete" % ORDER, CompleteHandler),
    ("/partner/location", LocationHandler),
    ("/partner/fcm-token", FcmTokenHandler),
    ("/partner/devices/register", DeviceRegisterHandler),
    ("/partner/devices/unregister", DeviceUnregisterHandler),
    ("/partner/broadcasting/auth", ChannelAuthHandler),
]
