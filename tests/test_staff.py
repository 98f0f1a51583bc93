"""Staff and platform settings over HTTP: waiters by role (riders merged for the
delivery role), permissions on request, delivery executives, roles and staff of
the caller's restaurant only, payment gateways without credentials, languages,
currencies, printers and receipt settings."""

import pytest

from protocol import models

D = "Downtown"
USER_KEYS = {"id", "name", "email", "phone", "phone_code", "roles", "branch_id",
             "is_delivery_staff"}
ROUTES = ["/pos/waiters", "/pos/delivery-executives", "/roles", "/platform/roles", "/staff",
          "/platform/staff", "/platform/permissions", "/languages", "/currencies",
          "/payment-gateways", "/platform/printers", "/platform/receipt-settings"]


@pytest.fixture
async def manager(edge):
    return await edge.login("manager@demo.test")


async def get(server, token, path):
    resp = await server.fetch("GET", path, token=token)
    assert resp.status == 200, resp
    return resp.body


def another_restaurant(server):
    """A second tenant in the same database, with a role and a user of its own."""
    def create():
        restaurant = models.Restaurant.create(name="Other Diner", hash="other-diner")
        branch = models.Branch.create(restaurant=restaurant, name="Elsewhere")
        role = models.Role.create(restaurant=restaurant, name="sommelier",
                                  display_name="Sommelier")
        user = models.User.create(restaurant=restaurant, branch=branch, name="Zed Other",
                                  email="zed@other.test", password_hash="x")
        models.UserRole.create(user=user, role=role)
        models.UserBranch.create(user=user, branch=branch)
        models.PaymentGateway.create(restaurant=restaurant, name="paypal", secret="pp-secret")
    server.node.store.call(create)


async def test_waiters_are_the_branchs_users_with_the_role(edge, manager, demo):
    rows = await get(edge, manager, "/pos/waiters")
    assert [r["name"] for r in rows] == ["James Wilson", "Sofia Martinez"]
    sofia = rows[1]
    assert set(sofia) == USER_KEYS
    assert sofia == {"id": demo["users"]["waiter@demo.test"], "name": "Sofia Martinez",
                     "email": "waiter@demo.test", "phone": "2125550103", "phone_code": "1",
                     "roles": ["waiter"], "branch_id": demo["branches"][D],
                     "is_delivery_staff": False}
    chefs = await get(edge, manager, "/pos/waiters?role=Chef")
    assert [r["email"] for r in chefs] == ["chef@demo.test"]

    bad = await edge.fetch("GET", "/pos/waiters?role=juggler", token=manager)
    assert bad.status == 422 and "role" in bad.body["errors"]
    assert "waiter" in bad.body["allowed"] and "delivery" in bad.body["allowed"]


async def test_the_delivery_role_merges_the_branchs_delivery_executives(edge, manager, demo):
    rows = await get(edge, manager, "/pos/waiters?role=delivery")
    users = [r for r in rows if not r["is_delivery_staff"]]
    riders = [r for r in rows if r["is_delivery_staff"]]
    assert [u["email"] for u in users] == ["rider@demo.test"]
    assert {r["name"] for r in riders} == {"Marcus Reed", "Priya Nair"}
    marcus = next(r for r in riders if r["name"] == "Marcus Reed")
    assert marcus["id"] == demo["delivery_executives"][D]["Marcus Reed"]
    assert marcus["branch_id"] == demo["branches"][D] and marcus["status"] == "available"
    assert marcus["phone"] == "2125550141" and marcus["roles"] == ["delivery"]


async def test_include_permissions_adds_each_users_permission_names(edge, manager):
    plain = await get(edge, manager, "/pos/waiters")
    assert all("permissions" not in r for r in plain)
    rows = await get(edge, manager, "/pos/waiters?include_permissions=true")
    for row in rows:
        assert "Create Order" in row["permissions"]
        assert "Manage Settings" not in row["permissions"]
    rows = await get(edge, manager, "/pos/waiters?role=delivery&include_permissions=1")
    assert all(isinstance(r["permissions"], list) for r in rows)
    bad = await edge.fetch("GET", "/pos/waiters?include_permissions=perhaps", token=manager)
    assert bad.status == 422 and "include_permissions" in bad.body["errors"]


async def test_delivery_executives_filter_by_status_and_search(edge, manager, demo):
    rows = await get(edge, manager, "/pos/delivery-executives")
    assert [r["name"] for r in rows] == ["Marcus Reed", "Priya Nair"]
    assert set(rows[0]) == {"id", "branch_id", "name", "phone", "phone_code", "status",
                            "location", "is_delivery_staff"}
    assert rows[0]["location"] is None          # no position reported yet
    assert all(r["is_delivery_staff"] is True for r in rows)
    found = await get(edge, manager, "/pos/delivery-executives?search=0142")
    assert [r["name"] for r in found] == ["Priya Nair"]
    assert await get(edge, manager, "/pos/delivery-executives?status=on_delivery") == []
    assert len(await get(edge, manager, "/pos/delivery-executives?status=Available")) == 2
    bad = await edge.fetch("GET", "/pos/delivery-executives?status=asleep", token=manager)
    assert bad.status == 422 and bad.body["allowed"] == ["available", "on_delivery", "inactive"]


async def test_roles_are_the_callers_restaurants_only(edge, manager, demo):
    another_restaurant(edge)
    rows = await get(edge, manager, "/roles")
    assert await get(edge, manager, "/platform/roles") == rows
    assert {r["name"] for r in rows} == set(demo["roles"])
    assert "sommelier" not in {r["name"] for r in rows}
    waiter = next(r for r in rows if r["name"] == "waiter")
    assert waiter == {"id": demo["roles"]["waiter"], "name": "waiter",
                      "display_name": "Waiter", "permissions_count": 10}


async def test_staff_lists_the_restaurants_users_with_their_branches(edge, manager, demo):
    another_restaurant(edge)
    rows = await get(edge, manager, "/staff")
    assert await get(edge, manager, "/platform/staff") == rows
    assert {r["email"] for r in rows} == set(demo["users"])
    owner = next(r for r in rows if r["email"] == "owner@demo.test")
    assert owner["roles"] == ["owner"]
    assert owner["branches"] == [{"id": demo["branches"]["Downtown"], "name": "Downtown"},
                                 {"id": demo["branches"]["Airport"], "name": "Airport"}]


async def test_permissions_list_roles_with_their_permissions(edge, manager, demo):
    body = await get(edge, manager, "/platform/permissions")
    assert set(body) == {"roles", "permissions", "permission_map", "all_permissions"}
    assert "Create Order" in body["permissions"]          # names the manager holds
    assert "Manage Settings" not in body["permissions"]
    assert len(body["all_permissions"]) == len(demo["permissions"])
    assert {"id": demo["permissions"]["Create Order"], "name": "Create Order",
            "module": "Order"} in body["all_permissions"]
    chef = next(r for r in body["roles"] if r["name"] == "chef")
    assert chef["permissions"] == ["Manage KOT", "Show Menu Item", "Show Order",
                                   "Update Menu Item"]
    assert chef["permissions_count"] == 4


async def test_payment_gateways_never_show_a_credential(edge, manager):
    another_restaurant(edge)
    resp = await edge.fetch("GET", "/payment-gateways", token=manager)
    assert resp.status == 200, resp
    assert [(g["name"], g["mode"], g["is_enabled"]) for g in resp.body] == [
        ("stripe", "test", True), ("razorpay", "test", False)]
    assert all(set(g) == {"id", "name", "mode", "is_enabled"} for g in resp.body)
    assert "sk_test_demo_not_a_real_key" not in resp.text
    assert "demo_not_real" not in resp.text and "secret" not in resp.text
    assert "paypal" not in resp.text


async def test_languages_currencies_printers_and_receipt_settings(edge, manager, demo):
    languages = await get(edge, manager, "/languages")
    arabic = next(lang for lang in languages if lang["code"] == "ar")
    assert set(arabic) == {"id", "code", "name", "is_active", "is_rtl"}
    assert arabic["is_rtl"] is True and arabic["is_active"] is True
    [currency] = await get(edge, manager, "/currencies")
    assert currency == {"id": currency["id"], "currency_code": "USD",
                        "currency_name": "US Dollar", "currency_symbol": "$", "decimals": 2}
    printers = await get(edge, manager, "/platform/printers")
    assert [p["name"] for p in printers] == ["Counter Printer", "Kitchen Printer"]
    assert printers[0]["address"].startswith("192.168.10.")
    assert printers[0]["id"] == demo["printers"][D]["Counter Printer"]
    receipt = await get(edge, manager, "/platform/receipt-settings")
    assert receipt["branch_id"] == demo["branches"][D]
    assert receipt["header"].startswith("Branchline Bistro - Downtown")
    assert receipt["show_tax"] is True


async def test_the_cloud_answers_for_the_tokens_branch(cloud, demo):
    token = await cloud.login("airport.manager@demo.test")
    rows = await get(cloud, token, "/pos/waiters")
    assert [r["email"] for r in rows] == ["airport.waiter@demo.test"]
    assert rows[0]["branch_id"] == demo["branches"]["Airport"]
    riders = await get(cloud, token, "/pos/delivery-executives")
    assert {r["name"] for r in riders} == {"Luis Ortega", "Hannah Cole"}
    printers = await get(cloud, token, "/platform/printers")
    assert all(p["address"].startswith("192.168.20.") for p in printers)


async def test_staff_routes_need_a_token(edge):
    for path in ROUTES:
        resp = await edge.fetch("GET", path)
        assert resp.status == 401 and resp.body == {"message": "Unauthenticated."}, path
