"""Branch context: switching branch, the platform configuration."""

from .. import accounts, floor_shapes, locations, shapes
from ..validation import Body, Id
from .base import APIHandler


class SwitchBranchBody(Body):
    branch_id: Id


class SwitchBranchHandler(APIHandler):
    responses = {"post": shapes.SwitchedBranch}
    bodies = {"post": SwitchBranchBody}
    tags = ("platform",)

    def _where(self, branch):
        cloud = self.node.settings.values.get("cloud_url") or ""
        return ("%s is served by its own server; this edge serves %s only. Connect to %s's "
                "server on that branch's network%s."
                % (branch.name, self.node.branch_name, branch.name,
                   ", or to the cloud at %s" % cloud if cloud else ", or to the cloud"))

    async def post(self):
        """Switch to another branch the user may use. At the cloud it becomes the
        user's current branch, so every token of the user acts on it from then on (as
        in the module); the answer also carries a new token scoped to it. A branch
        outside the user's is a 403; so is one another server answers for (an edge
        answers for its own branch only), saying where it is served."""
        body = self.body()
        result = await self.run(accounts.switch_branch, self.auth.user_id, body.branch_id,
                                self.node.serves, self._where, self.node.role == "cloud")
        token = self.node.keyring.issue(
            user_id=self.auth.user_id, restaurant_id=self.auth.restaurant_id,
            branch_id=result["branch"]["id"],
            ttl_seconds=self.node.settings.token_ttl_hours * 3600, now=self.node.clock.time())
        self.write_json({"success": True, "branch": result["branch"], "token": token,
                         "token_type": "Bearer", "user": result["user"]})


class ConfigHandler(APIHandler):
    responses = {"get": shapes.PlatformConfig}
    tags = ("platform",)

    async def get(self):
        """The user, restaurant (with currency), branch, features and modules."""
        features = {
            "edge": self.node.role == "edge",
            "offline_orders": self.node.role == "edge",
            "table_locks": True,
            "reservations": True,
            "idempotency_keys": True,
        }
        self.write_json(await self.run(accounts.platform_config, self.auth.user_id,
                                       self.auth.branch_id, features))


class EdgeLocationHandler(APIHandler):
    responses = {"get": floor_shapes.EdgeLocationAnswer}
    statuses = {"get": (404,)}
    tags = ("platform",)

    async def get(self):
        """Where the caller's branch's edge is on the shop's LAN, as it last said (the
        cloud knows it through sync), for an app that cannot use mDNS: {data: {addresses,
        port, api_urls, ws_urls, tls, tls_fingerprint (SHA-256 of its certificate, to
        pin), tls_spki, version, reported_at, ...}}; 404 when no edge of the branch has
        said where it is."""
        self.write_json({"data": await self.run(locations.where_is, self.auth.branch_id)})


default_handlers = [
    (r"/platform/switch-branch", SwitchBranchHandler),
    (r"/platform/config", ConfigHandler),
    (r"/platform/edge", EdgeLocationHandler),
]
