"""Delivery platforms and riders (/pos/delivery-platforms, /pos/delivery-executives;
MODULE-ROUTES.md §2, protocol/riders.py): what the POS sends, what it is answered,
the branch's scope, head office's ownership (409 at an edge) and the role rules."""

from protocol import accounts, models, orders, passwords, staff
from protocol.handlers.orders import OrderBody

PLATFORMS = "/pos/delivery-platforms"
RIDERS = "/pos/delivery-executives"
D, A = "Downtown", "Airport"


async def test_a_manager_adds_changes_and_deletes_a_platform_at_the_cloud(cloud, demo):
    manager = await cloud.login("manager@demo.test")
    made = await cloud.fetch("POST", PLATFORMS, {
        "name": "  Grubhub ", "commission_type": "percent", "commission_value": "17.5"},
        token=manager)
    assert made.status == 201, made
    data = made.body["data"]
    assert made.body["message"] == "Delivery platform created successfully"
    assert (data["name"], data["commission_type"], data["commission_value"],
            data["formatted_commission"], data["is_active"]) == (
        "Grubhub", "percent", 17.5, "17.5%", True)
    listed = (await cloud.fetch("GET", PLATFORMS, token=manager)).body
    assert "Grubhub" in [p["name"] for p in listed]
    one = await cloud.fetch("GET", "%s/%d" % (PLATFORMS, data["id"]), token=manager)
    assert one.status == 200 and one.body["data"] == data, one

    # null leaves a field as it is; false is applied; an inactive platform is not listed
    changed = await cloud.fetch("PUT", "%s/%d" % (PLATFORMS, data["id"]), {
        "name": None, "commission_value": 20, "is_active": False}, token=manager)
    assert changed.status == 200, changed
    assert (changed.body["data"]["name"], changed.body["data"]["commission_value"],
            changed.body["data"]["is_active"]) == ("Grubhub", 20, False)
    listed = (await cloud.fetch("GET", PLATFORMS, token=manager)).body
    assert "Grubhub" not in [p["name"] for p in listed]

    gone = await cloud.fetch("DELETE", "%s/%d" % (PLATFORMS, data["id"]), token=manager)
    assert gone.body == {"success": True, "message": "Delivery platform deleted successfully"}
    again = await cloud.fetch("GET", "%s/%d" % (PLATFORMS, data["id"]), token=manager)
    assert again.status == 404 and again.body["message"] == "Delivery platform not found"


async def test_platform_scope_roles_bad_input_and_the_edge(cloud, edge, demo):
    manager = await cloud.login("manager@demo.test")
    airport = demo["delivery_platforms"][A]["UberEats"]
    for method, body in (("GET", None), ("PUT", {"name": "Mine"}), ("DELETE", None)):
        resp = await cloud.fetch(method, "%s/%d" % (PLATFORMS, airport), body, token=manager)
        assert resp.status == 404, (method, resp)
    bad = await cloud.fetch("POST", PLATFORMS, {"commission_type": "fixed",
                                                "commission_value": -1}, token=manager)
    assert bad.status == 422, bad
    assert set(bad.body["errors"]) == {"name", "commission_type", "commission_value"}
    blank = await cloud.fetch("POST", PLATFORMS, {"name": "   "}, token=manager)
    assert blank.status == 422 and "name" in blank.body["errors"], blank

    waiter = await cloud.login("waiter@demo.test")
    refused = await cloud.fetch("POST", PLATFORMS, {"name": "Courier"}, token=waiter)
    assert refused.status == 403, refused

    edge_manager = await edge.login("manager@demo.test")
    own = demo["delivery_platforms"][D]["UberEats"]
    at_edge = await edge.fetch("PUT", "%s/%d" % (PLATFORMS, own), {"name": "X"},
                               token=edge_manager)
    assert at_edge.status == 409 and at_edge.body["success"] is False, at_edge
    made = await edge.fetch("POST", PLATFORMS, {"name": "Courier"}, token=edge_manager)
    assert made.status == 409, made
    read = await edge.fetch("GET", "%s/%d" % (PLATFORMS, own), token=edge_manager)
    assert read.status == 200 and read.body["data"]["commission_value"] == 30, read


async def test_a_rider_gets_a_login_code_once_kept_hashed(cloud, demo):
    manager = await cloud.login("manager@demo.test")
    made = await cloud.fetch("POST", RIDERS, {"name": "Ana Ruiz", "phone": "2125550177",
                                              "phone_code": "1"}, token=manager)
    assert made.status == 201, made
    data = made.body["data"]
    assert (data["name"], data["phone"], data["phone_code"], data["status"]) == (
        "Ana Ruiz", "2125550177", "1", "available")
    code = data["login_code"]
    assert len(code) == 10 and code.isalnum()

    def stored():
        return models.DeliveryExecutive.get_by_id(data["id"]).login_code_hash
    hashed = cloud.node.store.call(stored)
    assert code not in hashed and passwords.verify_password(code, hashed)
    other = await cloud.fetch("POST", RIDERS, {"name": "Ben Ode"}, token=manager)
    assert other.body["data"]["login_code"] != code
    listed = (await cloud.fetch("GET", RIDERS, token=manager)).body
    [row] = [r for r in listed if r["id"] == data["id"]]
    assert "login_code" not in row and "login_code_hash" not in row


async def test_rider_changes_status_scope_and_delete(cloud, edge, demo):
    manager = await cloud.login("manager@demo.test")
    marcus = demo["delivery_executives"][D]["Marcus Reed"]
    path = "%s/%d" % (RIDERS, marcus)
    changed = await cloud.fetch("PUT", path, {"phone": None, "status": "on_delivery"},
                                token=manager)
    assert changed.status == 200, changed
    assert (changed.body["data"]["phone"], changed.body["data"]["status"]) == ("", "on_delivery")
    for status in staff.EXECUTIVE_STATUSES:
        resp = await cloud.fetch("PUT", path + "/status", {"status": status}, token=manager)
        assert resp.body == {"success": True, "data": {
            "id": marcus, "name": "Marcus Reed", "status": status},
            "message": "Delivery executive status updated successfully"}, resp
    for body in ({"status": "in_delivery"}, {"status": "Available"}, {}):
        bad = await cloud.fetch("PUT", path + "/status", body, token=manager)
        assert bad.status == 422 and "status" in bad.body["errors"], bad
    bad = await cloud.fetch("POST", RIDERS, {"status": "busy"}, token=manager)
    assert bad.status == 422 and set(bad.body["errors"]) == {"name", "status"}, bad

    airport = next(iter(demo["delivery_executives"][A].values()))
    for method, suffix, body in (("PUT", "", {"name": "X"}), ("DELETE", "", None),
                                 ("PUT", "/status", {"status": "inactive"})):
        resp = await cloud.fetch(method, "%s/%d%s" % (RIDERS, airport, suffix), body,
                                 token=manager)
        assert resp.status == 404 and resp.body["message"] == "Delivery executive not found"

    waiter = await cloud.login("waiter@demo.test")
    refused = await cloud.fetch("PUT", path + "/status", {"status": "available"}, token=waiter)
    assert refused.status == 403, refused
    # A rider's status is the branch's live state: set where the branch runs, offline too.
    edge_manager = await edge.login("manager@demo.test")
    at_edge = await edge.fetch("PUT", path + "/status", {"status": "inactive"},
                               token=edge_manager)
    assert at_edge.status == 200 and at_edge.body["data"]["status"] == "inactive", at_edge
    listed = (await edge.fetch("GET", RIDERS + "?status=inactive", token=edge_manager)).body
    assert [r["id"] for r in listed] == [marcus]

    made = (await cloud.fetch("POST", RIDERS, {"name": "Temp"}, token=manager)).body["data"]
    gone = await cloud.fetch("DELETE", "%s/%d" % (RIDERS, made["id"]), token=manager)
    assert gone.body["message"] == "Delivery executive deleted successfully"


async def test_deleting_what_an_order_names_deactivates_it(cloud, demo):
    manager = await cloud.login("manager@demo.test")
    marcus = demo["delivery_executives"][D]["Marcus Reed"]
    platform = demo["delivery_platforms"][D]["DoorDash"]

    def name_them():
        user = models.User.get(models.User.email == "manager@demo.test")
        actor = accounts.actor_for(user, demo["branches"][D])
        body = OrderBody.model_validate({
            "order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}],
            "delivery_executive_id": marcus, "delivery_app_id": platform})
        return orders.create_order(actor, body, cloud.node.clock.now())["order"]["id"]
    assert cloud.node.store.call(name_them)
    rider = await cloud.fetch("DELETE", "%s/%d" % (RIDERS, marcus), token=manager)
    assert rider.body["message"] == "Delivery executive set to inactive (has associated orders)"
    app = await cloud.fetch("DELETE", "%s/%d" % (PLATFORMS, platform), token=manager)
    assert app.body["message"] == "Delivery platform deactivated (has associated orders)"
    kept = await cloud.fetch("GET", "%s/%d" % (PLATFORMS, platform), token=manager)
    assert kept.body["data"]["is_active"] is False
    riders = (await cloud.fetch("GET", RIDERS + "?status=inactive", token=manager)).body
    assert [r["id"] for r in riders] == [marcus]
