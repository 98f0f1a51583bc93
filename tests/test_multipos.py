"""MultiPOS devices (/pos/multi-pos, MODULE-ROUTES.md §7), without the module's leaks."""

import secrets

from protocol import models

D = "Downtown"


def other_restaurants_branch(server):
    def make():
        elsewhere = models.Restaurant.create(name="Elsewhere Bistro", hash=secrets.token_hex(16))
        return models.Branch.create(restaurant=elsewhere.id, name="Elsewhere Main").id
    return server.node.store.call(make)


async def test_a_device_registers_once_and_its_token_is_never_read_back(edge, waiter, demo):
    first = await edge.fetch("POST", "/pos/multi-pos/register",
                             {"device_id": "till-7", "platform": "android"}, token=waiter)
    assert first.status == 200, first
    assert first.body["message"] == "Device registered"
    machine = first.body["data"]
    assert machine["branch_id"] == demo["branches"][D] and machine["status"] == "active"
    assert len(machine["public_id"]) == 26 and len(machine["token"]) >= 64
    assert machine["alias"].startswith("Downtown POS ")
    stored = edge.node.store.call(lambda: models.PosMachine.get_by_id(machine["id"]).token_hash)
    assert machine["token"] not in stored

    checked = await edge.fetch("GET", "/pos/multi-pos/check?device_id=till-7", token=waiter)
    assert checked.status == 200 and checked.body["needs_registration"] is False
    assert checked.body["data"]["id"] == machine["id"] and checked.body["data"]["token"] is None

    # Registering again is the same device with a fresh token (the old one is gone).
    again = await edge.fetch("POST", "/pos/multi-pos/register", {"device_id": "till-7"},
                             token=waiter)
    assert again.body["message"] == "Device already registered"
    assert again.body["data"]["id"] == machine["id"]
    assert again.body["data"]["token"] not in (None, machine["token"])

    unknown = await edge.fetch("GET", "/pos/multi-pos/check?device_id=till-8", token=waiter)
    assert unknown.body == {"success": True, "needs_registration": True,
                            "message": "No device found for this branch"}
    generated = await edge.fetch("POST", "/pos/multi-pos/register", {}, token=waiter)
    assert generated.status == 200 and len(generated.body["data"]["device_id"]) == 64


async def test_devices_are_scoped_to_the_restaurant_and_the_token_branch(edge, waiter, demo):
    elsewhere = other_restaurants_branch(edge)
    for method, path, body in (
            ("GET", "/pos/multi-pos/check?device_id=till-7&branch_id=%d" % elsewhere, None),
            ("POST", "/pos/multi-pos/register", {"device_id": "x", "branch_id": elsewhere})):
        resp = await edge.fetch(method, path, body, token=waiter)
        assert resp.status == 404, resp
        assert resp.body == {"success": False, "message": "Branch not found for this restaurant"}
    airport = await edge.fetch("POST", "/pos/multi-pos/register",
                               {"device_id": "x", "branch_id": demo["branches"]["Airport"]},
                               token=waiter)
    assert airport.status == 403 and airport.body["success"] is False
    missing = await edge.fetch("GET", "/pos/multi-pos/check", token=waiter)
    assert missing.status == 422 and "device_id" in missing.body["errors"]
