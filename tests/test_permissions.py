"""The permission map tells the truth: what a user is told at login is what the server does.

Each demo role logs in, reads ``permission_map``, then tries every guarded action over
HTTP: allowed by the map -> 2xx, not allowed -> 403 ``{"success": false, "message"}``.
At an edge and at the cloud for a branch it serves. What each action needs is written
here as a companion app reads it (permission names), not imported from the server.
"""

import datetime

import pytest

from protocol import accounts, models
from protocol.clock import FakeClock
from protocol.passwords import hash_password

from conftest import PASSWORD

D = "Downtown"
CASHIER = "cashier@demo.test"
LOGINS = ["owner@demo.test", "manager@demo.test", "waiter@demo.test", CASHIER,
          "chef@demo.test", "rider@demo.test"]


def add_cashier(server, demo):
    """The demo has no cashier login; one for Downtown, as head office would add."""
    def create():
        user = models.User.create(restaurant=demo["restaurant_id"],
                                  branch=demo["branches"][D], name="Cody Cash", email=CASHIER,
                                  password_hash=hash_password(PASSWORD))
        models.UserRole.create(user=user, role=demo["roles"]["cashier"])
        models.UserBranch.create(user=user, branch=demo["branches"][D])
    server.node.store.call(create)


async def login(server, email):
    resp = await server.fetch("POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert resp.status == 200, resp
    return resp.body["data"]["access_token"], resp.body["data"]["permission_map"]


class Setting:
    """What the actions act on: orders a manager opened, a table waiter2 holds."""

    def __init__(self, server, demo, manager, waiter2):
        self.server, self.demo, self.manager, self.waiter2 = server, demo, manager, waiter2
        self.tables = iter(sorted(demo["tables"][D].values()))

    def item(self, name="Garlic Bread"):
        return {"id": self.demo["items"][D][name], "quantity": 1}

    async def order(self):
        resp = await self.server.fetch("POST", "/pos/orders", {
            "order_type": "pickup", "items": [self.item()], "actions": ["kot"]},
            token=self.manager)
        assert resp.status == 201, resp
        return resp.body["order"]["id"]

    async def kot(self):
        order_id = await self.order()
        resp = await self.server.fetch("GET", "/pos/orders/%d/kots" % order_id,
                                       token=self.manager)
        assert resp.status == 200 and resp.body["data"], resp
        return resp.body["data"][0]["id"]

    async def held_table(self):
        table_id = next(self.tables)
        resp = await self.server.fetch("POST", "/pos/orders", {
            "order_type": "Dine In", "table_id": table_id, "items": [self.item()],
            "actions": ["kot"]},
            token=self.waiter2)
        assert resp.status == 201, resp
        return table_id


async def create_order(s, token, n):
    return await s.server.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [s.item()]}, token=token)


def on_an_order(method, path, body):
    """An attempt: ``method path`` (its %d a fresh order's id) with ``body``."""
    async def attempt(s, token, n):
        return await s.server.fetch(method, path % await s.order(), body, token=token)
    return attempt


async def kot_status(s, token, n):
    return await s.server.fetch("PUT", "/pos/kots/%d/status" % await s.kot(),
                                {"status": "food_ready"}, token=token)


async def unlock_anothers_table(s, token, n):
    resp = await s.server.fetch("POST", "/pos/tables/%d/unlock" % await s.held_table(),
                                token=token)
    assert "not locked" not in resp.text, resp       # it was another's lock to undo
    return resp


async def reservation(s, token, n):
    day = datetime.date(2031, 1, 1) + datetime.timedelta(days=n)     # one booking a day
    return await s.server.fetch("POST", "/pos/reservations", {
        "table_id": s.demo["tables"][D]["T8"],
        "reservation_date_time": "%s 19:00:00" % day.isoformat(), "party_size": 2},
        token=token)


async def customer(s, token, n):
    return await s.server.fetch("POST", "/pos/customers", {
        "name": "Guest %d" % n, "phone_code": "1", "phone": "21255599%02d" % n},
        token=token)


# action, any of the permissions that allow it, how it is tried
ACTIONS = [
    ("create order", ["Create Order"], create_order),
    ("update order", ["Update Order"],
     on_an_order("PUT", "/pos/orders/%d", {"note": "no onions"})),
    ("cancel order", ["Cancel Order"],
     on_an_order("POST", "/pos/orders/%d/status", {"status": "cancelled"})),
    ("move an order's status", ["Update Order", "Manage KOT", "Manage Delivery"],
     on_an_order("POST", "/pos/orders/%d/status", {"status": "preparing"})),
    ("take payment", ["Create Payment"],
     on_an_order("POST", "/pos/orders/%d/pay", {"method": "card"})),
    ("split payment", ["Create Payment"],
     on_an_order("POST", "/pos/orders/%d/split-payments",
                 {"amount": 2, "payment_method": "cash", "status": "paid"})),
    ("tip", ["Create Payment"], on_an_order("POST", "/pos/orders/%d/tip", {"amount": 3})),
    ("change KOT status", ["Manage KOT"], kot_status),
    ("unlock another's table", ["Unlock Table"], unlock_anothers_table),
    ("manage reservations", ["Create Reservation"], reservation),
    ("manage customers", ["Manage Customers"], customer),
]


async def check_every_role(server, demo):
    add_cashier(server, demo)
    manager, _ = await login(server, "manager@demo.test")
    waiter2, _ = await login(server, "waiter2@demo.test")
    setting = Setting(server, demo, manager, waiter2)
    disagreements, n = [], 0
    for email in LOGINS:
        token, permission_map = await login(server, email)
        for action, needs, attempt in ACTIONS:
            n += 1
            assert all(name in permission_map for name in needs), (email, action)
            told = any(permission_map[name] for name in needs)
            resp = await attempt(setting, token, n)
            if told and not 200 <= resp.status < 300:
                disagreements.append((email, action, "told yes", resp))
            if not told:
                if resp.status != 403:
                    disagreements.append((email, action, "told no", resp))
                else:
                    assert set(resp.body) == {"success", "message"}, resp
                    assert resp.body["success"] is False and resp.body["message"], resp
    assert disagreements == []


async def test_the_map_agrees_with_the_edge_for_every_role(edge, demo):
    await check_every_role(edge, demo)


async def test_the_map_agrees_with_the_cloud_for_a_branch_it_serves(cloud, demo):
    await check_every_role(cloud, demo)


def granted(permission_map):
    return {name for name, value in permission_map.items() if value}


async def test_the_roles_do_what_the_scenarios_say(edge, demo):
    add_cashier(edge, demo)
    maps = {email: (await login(edge, email))[1] for email in LOGINS}
    assert all(maps["owner@demo.test"].values())
    waiter = granted(maps["waiter@demo.test"])
    assert {"Create Order", "Update Order", "Create Payment", "Manage KOT",
            "Create Reservation", "Manage Customers"} <= waiter
    assert not {"Cancel Order", "Refund Payment", "Unlock Table"} & waiter
    assert {"Cancel Order", "Refund Payment", "Unlock Table", "Create Payment"} <= granted(
        maps[CASHIER])
    assert {"Cancel Order", "Refund Payment", "Unlock Table"} <= granted(
        maps["manager@demo.test"])
    chef = granted(maps["chef@demo.test"])
    assert "Manage KOT" in chef and not {"Create Order", "Create Payment"} & chef
    rider = granted(maps["rider@demo.test"])
    assert "Manage Delivery" in rider and not {"Create Order", "Create Payment"} & rider


async def test_a_waiter_takes_payments_but_does_not_cancel(edge, demo):
    manager, _ = await login(edge, "manager@demo.test")
    waiter, permission_map = await login(edge, "waiter@demo.test")
    assert permission_map["Create Payment"] is True and permission_map["Cancel Order"] is False
    setting = Setting(edge, demo, manager, manager)
    order_id = await setting.order()
    paid = await edge.fetch("POST", "/pos/orders/%d/pay" % order_id, {"method": "cash"},
                            token=waiter)
    assert paid.status == 200 and paid.body["status"] == "paid", paid
    order_id = await setting.order()
    refused = await edge.fetch("POST", "/pos/orders/%d/status" % order_id,
                               {"status": "cancelled"}, token=waiter)
    assert refused.status == 403, refused
    assert refused.body == {"success": False, "message": "Your role may not cancel orders."}
    still = await edge.fetch("GET", "/pos/orders/%d" % order_id, token=waiter)
    assert still.status == 200 and "canceled" not in still.text, still


@pytest.fixture
async def ticking(start_node):
    clock = FakeClock()
    return await start_node("edge", D, clock=clock), clock


async def test_head_office_revoking_a_permission_takes_effect_within_the_cache(ticking, demo):
    edge, clock = ticking
    manager, _ = await login(edge, "manager@demo.test")
    waiter, permission_map = await login(edge, "waiter@demo.test")
    assert permission_map["Create Payment"] is True
    setting = Setting(edge, demo, manager, manager)
    first = await edge.fetch("POST", "/pos/orders/%d/tip" % await setting.order(),
                             {"amount": 1}, token=waiter)
    assert first.status == 200, first

    def revoke():
        models.RolePermission.delete().where(
            (models.RolePermission.role == demo["roles"]["waiter"]) &
            (models.RolePermission.permission == demo["permissions"]["Create Payment"])
        ).execute()
    edge.node.store.call(revoke)
    clock.advance(accounts.ACTOR_TTL_SECONDS + 1)

    _, permission_map = await login(edge, "waiter@demo.test")
    assert permission_map["Create Payment"] is False
    refused = await edge.fetch("POST", "/pos/orders/%d/tip" % await setting.order(),
                               {"amount": 1}, token=waiter)
    assert refused.status == 403 and refused.body["success"] is False, refused
