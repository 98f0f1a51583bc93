"""Login, the current user, logout."""

import datetime

from .. import accounts, shapes, validation
from ..validation import Body, Email
from .base import APIHandler


class LoginBody(Body):
    email: Email
    password: str


class LoginHandler(APIHandler):
    responses = {"post": shapes.LoggedIn}
    statuses = {"post": (429,)}
    public = True
    bodies = {"post": LoginBody}
    tags = ("auth",)

    async def post(self):
        """Log in with email and password; answers a bearer token scoped to a branch.
        Five attempts a minute per email and client, then 429 with Retry-After."""
        raw = self.json_body()
        email = str(raw.get("email", "")).strip().lower() if isinstance(raw, dict) else ""
        await self.node.login_limiter.attempt(
            (email, self.request.remote_ip),
            "Too many login attempts. Please try again in {seconds} seconds.")
        body = validation.parse(LoginBody, raw)
        found = await self.run(accounts.authenticate, body.email, body.password,
                               self.node.branch_id)
        settings = self.node.settings
        token = self.node.keyring.issue(
            user_id=found["user"]["id"], restaurant_id=found["restaurant_id"],
            branch_id=found["branch_id"], ttl_seconds=settings.token_ttl_hours * 3600,
            now=self.node.clock.time())
        self.write_json({
            "timestamp": self.node.clock.now().replace(tzinfo=datetime.timezone.utc),
            "status": True,
            "message": "success",
            "data": {
                "token_type": "Bearer",
                "access_token": token,
                "expires_in": settings.token_ttl_hours * 3600,
                "user": found["user"],
                "permission_map": found["permission_map"],
            },
        })


class MeHandler(APIHandler):
    responses = {"get": shapes.Me}
    tags = ("auth",)

    async def get(self):
        """The user the token belongs to, with their roles, and the modules enabled."""
        self.write_json(await self.run(accounts.me, self.auth.user_id, self.auth.branch_id))


class LogoutHandler(APIHandler):
    responses = {"post": shapes.Done}
    tags = ("auth",)

    async def post(self):
        """Revoke the token this request carries; it stops working at once."""
        expires = datetime.datetime.fromtimestamp(self.auth.claims["exp"], datetime.timezone.utc)
        await self.run(accounts.revoke, self.auth.jti, expires.replace(tzinfo=None))
        self.node.store.revoke([self.auth.jti])
        self.write_json({"success": True, "message": "Logged out."})


default_handlers = [
    (r"/auth/login", LoginHandler),
    (r"/auth/me", MeHandler),
    (r"/auth/logout", LogoutHandler),
]
