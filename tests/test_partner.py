"""The rider app (/partner/..., MODULE-ROUTES.md §6; protocol/partner.py): signing in
with the login code (a token that expires; the old apps' X-PARTNER-CODE header too;
both rate limited), a rider's whole run at the branch's edge, what the dispatcher sees
of it, push tokens, and the rider's run at the cloud while the branch's edge carries
out the commands."""

import datetime
import json

from conftest import trust
from protocol import events, models
from protocol.tokens import InvalidToken
from pushservice import Subscriber
from sync.models import SyncNode
from test_realtime import Socket, socket_for
from test_sync import _edge_status, enrolled, eventually  # noqa: F401 (a fixture)

D = "Downtown"
MARCUS, PRIYA = "Marcus Reed", "Priya Nair"
# 0.027 degrees north of Downtown (40.7087, -74.0128): 3.002 km (tests/test_delivery.py)
CUSTOMER = {"lat": 40.7357, "lng": -74.0128}


def code(demo, name, branch=D):
    return demo["rider_codes"][branch][name]


async def rider_login(server, demo, name, branch=D):
    resp = await server.fetch("POST", "/partner/auth/login",
                              {"unique_code": code(demo, name, branch)})
    assert resp.status == 200, resp
    return resp.body["data"]["access_token"]


async def delivery_for(server, manager, demo, rider=None, ready=True):
    """A delivery order to an address with a location; assigned to ``rider`` (a name)
    and made ready for pickup."""
    address = await server.fetch("POST", "/customer-addresses", dict(
        customer_id=demo["customers"]["Emily Carter"], address="22 W 34th Street",
        label="Home", **CUSTOMER), token=manager)
    assert address.status == 201, address
    made = await server.fetch("POST", "/pos/orders", {
        "order_type": "delivery", "customer_id": demo["customers"]["Emily Carter"],
        "customer_address_id": address.body["data"]["id"], "note": "Ring twice",
        "items": [{"id": demo["items"][D]["Espresso"], "quantity": 2},
                  {"id": demo["items"][D]["Garlic Bread"]}]}, token=manager)
    assert made.status == 201, made
    order_id = made.body["order"]["id"]
    if rider:
        assigned = await server.fetch(
            "PUT", "/pos/orders/%d/assign-delivery" % order_id,
            {"delivery_executive_id": demo["delivery_executives"][D][rider]}, token=manager)
        assert assigned.status == 200, assigned
    if ready:
        for status in ("preparing", "ready_for_pickup"):
            moved = await server.fetch("PUT", "/pos/orders/%d/delivery-status" % order_id,
                                       {"status": status}, token=manager)
            assert moved.status == 200, moved
    return order_id, made.body["order"]


async def test_a_rider_signs_in_with_their_code_and_the_token_is_theirs_only(edge, demo):
    resp = await edge.fetch("POST", "/partner/auth/login",
                            {"unique_code": code(demo, MARCUS).lower() + " "})
    assert resp.status == 200, resp
    data = resp.body["data"]
    assert resp.body["message"] == "Login successful" and "unique_code" not in data
    assert (data["token_type"], data["expires_in"]) == (
        "Bearer", edge.node.settings.token_ttl_hours * 3600)
    assert (data["partner"]["id"], data["partner"]["name"], data["partner"]["status"],
            data["partner"]["branch"]["name"]) == (
        demo["delivery_executives"][D][MARCUS], MARCUS, "available", D)
    token = data["access_token"]
    profile = await edge.fetch("GET", "/partner/profile", token=token)
    assert profile.status == 200 and profile.body["data"] == data["partner"], profile
    # The old apps' static code header works too.
    legacy = await edge.fetch("GET", "/partner/profile",
                              headers={"X-PARTNER-CODE": code(demo, MARCUS)})
    assert legacy.status == 200 and legacy.body["data"]["name"] == MARCUS, legacy
    # A rider's token is no staff token, and a staff token no rider's.
    staff = await edge.fetch("GET", "/pos/orders", token=token)
    assert staff.status == 401, staff
    manager = await edge.login("manager@demo.test")
    assert (await edge.fetch("GET", "/partner/profile", token=manager)).status == 401
    assert (await edge.fetch("GET", "/partner/profile")).status == 401
    # Signing out ends the token; a token says it is a rider's, and expires.
    assert (await edge.fetch("POST", "/partner/auth/logout", token=token)).status == 200
    assert (await edge.fetch("GET", "/partner/profile", token=token)).status == 401
    fresh = await rider_login(edge, demo, PRIYA)
    claims = edge.node.keyring.verify(fresh, 0)
    assert claims["kind"] == "rider" and claims["exp"] - claims["iat"] == data["expires_in"]
    edge.node.keyring.verify(fresh, claims["exp"] - 1)
    try:
        edge.node.keyring.verify(fresh, claims["exp"])
        raise AssertionError("an expired rider token was accepted")
    except InvalidToken:
        pass


async def test_five_failures_a_minute_per_code_and_client_then_429(edge, demo):
    for _ in range(5):
        bad = await edge.fetch("POST", "/partner/auth/login", {"unique_code": "WRONG12345"})
        assert bad.status == 401 and bad.body == {"success": False,
                                                  "message": "Invalid partner unique code"}
    throttled = await edge.fetch("POST", "/partner/auth/login", {"unique_code": "WRONG12345"})
    assert throttled.status == 429 and int(throttled.headers["Retry-After"]) > 0, throttled
    header = await edge.fetch("GET", "/partner/profile", headers={"X-PARTNER-CODE": "WRONG12345"})
    assert header.status == 429, header
    # Another code is still tried, and the right one still works.
    assert (await edge.fetch("POST", "/partner/auth/login",
                             {"unique_code": "OTHER12345"})).status == 401
    await rider_login(edge, demo, MARCUS)
    for _ in range(5):
        await edge.fetch("GET", "/partner/orders/latest", headers={"X-PARTNER-CODE": "NOPE"})
    assert (await edge.fetch("GET", "/partner/orders/latest",
                             headers={"X-PARTNER-CODE": "NOPE"})).status == 429
    bad = await edge.fetch("POST", "/partner/auth/login", {})
    assert bad.status == 422 and "unique_code" in bad.body["errors"]


async def test_an_inactive_rider_cannot_sign_in(edge, demo):
    manager = await edge.login("manager@demo.test")
    token = await rider_login(edge, demo, PRIYA)
    await edge.fetch("PUT", "/pos/delivery-executives/%d/status"
                     % demo["delivery_executives"][D][PRIYA], {"status": "inactive"},
                     token=manager)
    refused = await edge.fetch("POST", "/partner/auth/login", {"unique_code": code(demo, PRIYA)})
    assert refused.status == 403 and refused.body["message"] == "Partner account is inactive"
    assert (await edge.fetch("GET", "/partner/profile", token=token)).status == 403


async def test_a_riders_run_at_the_edge(edge, demo):
    manager = await edge.login("manager@demo.test")
    rider = await rider_login(edge, demo, MARCUS)
    marcus = demo["delivery_executives"][D][MARCUS]
    nothing = await edge.fetch("GET", "/partner/orders/latest", token=rider)
    assert nothing.body == {"success": True, "message": "No active order found", "data": None}

    order_id, order = await delivery_for(edge, manager, demo, MARCUS)
    latest = (await edge.fetch("GET", "/partner/orders/latest", token=rider)).body["data"]
    assert (latest["id"], latest["order_number"], latest["status"]) == (
        order_id, order["formatted_order_number"], "Ready to deliver")
    # Not yet paid: the rider collects the total, in the restaurant's currency.
    assert latest["payment"]["mode"] == "COD"
    assert latest["payment"]["amount"] == "$%.2f" % order["total"]
    assert latest["payment"]["amount_due"] == order["total"] > 0
    assert latest["customer"]["coordinates"] == {"latitude": 40.7357, "longitude": -74.0128}
    assert latest["restaurant"]["coordinates"] == {"latitude": 40.7087, "longitude": -74.0128}
    assert latest["distanceToCustomer"] == "3.002 km"
    assert latest["dropETA"] == "7 mins"            # 3.002 km at 25 km/h: 7.2 minutes
    assert latest["instructions"] == "Ring twice"
    assert {i["name"]: i["quantity"] for i in latest["items"]} == {"Espresso": 2,
                                                                   "Garlic Bread": 1}

    # Another's order, or an order not assigned to anyone, is not found.
    other, _ = await delivery_for(edge, manager, demo, PRIYA)
    for action in ("start", "complete"):
        resp = await edge.fetch("POST", "/partner/orders/%d/%s" % (other, action), token=rider)
        assert resp.status == 404 and resp.body["message"] == "Order not found", resp
    early = await edge.fetch("POST", "/partner/orders/%d/complete" % order_id, token=rider)
    assert early.status == 409, early
    not_yet = await edge.fetch("POST", "/partner/orders/%d/status" % order_id,
                               {"status": "on_way"}, token=rider)
    assert not_yet.status == 409, not_yet

    started = await edge.fetch("POST", "/partner/orders/%d/start" % order_id, token=rider)
    assert started.status == 200 and started.body["message"] == "Order started successfully"
    assert (started.body["data"]["id"], started.body["data"]["order_status"],
            started.body["data"]["total"]) == (order_id, "out_for_delivery", order["total"])
    assert (await edge.fetch("POST", "/partner/orders/%d/start" % order_id,
                             token=rider)).status == 200            # a retry
    on_way = await edge.fetch("POST", "/partner/orders/%d/status" % order_id,
                              {"status": "on_way"}, token=rider)
    assert on_way.status == 200, on_way
    for body in ({"status": "lost"}, {}):
        bad = await edge.fetch("POST", "/partner/orders/%d/status" % order_id, body, token=rider)
        assert bad.status == 422, bad

    # The position: the dispatcher sees it with the rider and the order.
    moved = await edge.fetch("POST", "/partner/location",
                             {"latitude": 40.72, "longitude": -74.01}, token=rider)
    assert moved.status == 200 and moved.body["data"]["lat"] == 40.72, moved
    for body in ({"latitude": 40.72}, {"latitude": 91, "longitude": 0},
                 {"latitude": "north", "longitude": 1}):
        bad = await edge.fetch("POST", "/partner/location", body, token=rider)
        assert bad.status == 422, (body, bad)
    zero = await edge.fetch("POST", "/partner/location", {"latitude": 0, "longitude": 0},
                            headers={"X-PARTNER-CODE": code(demo, MARCUS)})
    assert zero.status == 200 and zero.body["data"]["lat"] == 0, zero     # 0 is a place
    await edge.fetch("POST", "/partner/location", {"latitude": 40.72, "longitude": -74.01},
                     token=rider)
    riders = (await edge.fetch("GET", "/pos/delivery-executives", token=manager)).body
    [row] = [r for r in riders if r["id"] == marcus]
    assert row["status"] == "on_delivery"
    assert (row["location"]["lat"], row["location"]["lng"]) == (40.72, -74.01)
    listed = (await edge.fetch("GET", "/pos/delivery-orders", token=manager)).body["data"]
    [mine] = [o for o in listed if o["id"] == order_id]
    assert mine["delivery_executive"]["location"]["lat"] == 40.72

    done = await edge.fetch("POST", "/partner/orders/%d/complete" % order_id, token=rider)
    assert done.status == 200 and done.body["data"]["order_status"] == "delivered", done
    profile = (await edge.fetch("GET", "/partner/profile", token=rider)).body["data"]
    assert (profile["status"], profile["current_order_id"]) == ("available", None)
    assert (await edge.fetch("GET", "/partner/orders/latest", token=rider)).body["data"] is None
    history = (await edge.fetch("GET", "/partner/orders/history?per_page=5",
                                token=rider)).body
    assert [o["id"] for o in history["data"]] == [order_id]
    assert (history["total"], history["per_page"], history["data"][0]["order_status"]) == (
        1, 5, "delivered")
    assert {i["menu_item_name"] for i in history["data"][0]["items"]} == {"Espresso",
                                                                          "Garlic Bread"}


async def test_push_tokens_of_a_riders_devices(edge, demo):
    rider = await rider_login(edge, demo, MARCUS)
    marcus = demo["delivery_executives"][D][MARCUS]

    def tokens():
        return edge.node.store.call(lambda: sorted(
            (t.token, t.device_id, t.platform, t.user_id) for t in models.DeviceToken.select()
            .where(models.DeviceToken.delivery_executive == marcus)))
    fcm = await edge.fetch("POST", "/partner/fcm-token",
                           {"fcm_token": "fcm-1", "platform": "android", "device_id": "phone-1"},
                           token=rider)
    assert fcm.status == 200, fcm
    again = await edge.fetch("POST", "/partner/devices/register",
                             {"token": "fcm-2", "platform": "android", "device_id": "phone-1"},
                             token=rider)
    assert again.status == 200, again
    # A web token is checked as at POST /pos/notifications/register-token: a browser's
    # PushSubscription, kept as the JSON the push sender reads.
    bad = await edge.fetch("POST", "/partner/devices/register",
                           {"token": "web-1", "platform": "web", "device_id": "tablet"},
                           token=rider)
    assert bad.status == 422 and "token" in bad.body["errors"], bad
    browser = Subscriber("https://push.example.test/wpush/rider").subscription()
    web = await edge.fetch("POST", "/partner/devices/register",
                           {"token": browser, "platform": "web", "device_id": "tablet"},
                           token=rider)
    assert web.status == 200, web
    kept = tokens()
    assert [t for t in kept if t[2] == "android"] == [
        ("fcm-2", "phone-1", "android", None)]
    [(stored, device, _, _)] = [t for t in kept if t[2] == "web"]
    assert device == "tablet" and json.loads(stored)["endpoint"] == browser["endpoint"]
    gone = await edge.fetch("POST", "/partner/devices/unregister", {"device_id": "phone-1"},
                            token=rider)
    assert gone.status == 200 and tokens() == [(stored, "tablet", "web", None)]
    empty = await edge.fetch("POST", "/partner/devices/unregister", {}, token=rider)
    assert empty.status == 422, empty
    assert (await edge.fetch("POST", "/partner/fcm-token", {}, token=rider)).status == 422


async def test_a_riders_run_at_the_cloud_is_carried_out_by_the_edge(enrolled, demo):
    cloud, edge = enrolled
    await eventually(lambda: _edge_status(edge), 3.0)          # the edge has pulled once
    manager = await edge.login("manager@demo.test")
    order_id, order = await delivery_for(edge, manager, demo, ready=False)
    await eventually(lambda: cloud.node.store.call(
        lambda: models.Order.get_or_none(models.Order.id == order_id)) is not None, 3.0)
    # Dispatch from head office: commands the edge carries out.
    head_office = await cloud.login("manager@demo.test")
    assigned = await cloud.fetch("PUT", "/pos/orders/%d/assign-delivery" % order_id,
                                 {"delivery_executive_id": demo["delivery_executives"][D][PRIYA]},
                                 token=head_office, headers={"Idempotency-Key": "assign-1"})
    assert assigned.status == 200, assigned
    for status in ("preparing", "ready_for_pickup"):
        moved = await cloud.fetch("PUT", "/pos/orders/%d/delivery-status" % order_id,
                                  {"status": status}, token=head_office)
        assert moved.status == 200 and moved.body["data"]["order_status"] == status, moved
    at_edge = edge.node.store.call(lambda: models.Order.get_by_id(order_id))
    assert (at_edge.order_status, at_edge.delivery_executive_id) == (
        "ready_for_pickup", demo["delivery_executives"][D][PRIYA])

    # On mobile data, the rider reaches the cloud: signed in there, acting at the edge.
    rider = await rider_login(cloud, demo, PRIYA)
    latest = await eventually(lambda: _latest(cloud, rider, order_id), 3.0)
    assert latest["payment"]["amount_due"] == order["total"]
    started = await cloud.fetch("POST", "/partner/orders/%d/start" % order_id, token=rider)
    assert started.status == 200 and started.body["data"]["order_status"] == "out_for_delivery"
    at_edge = edge.node.store.call(lambda: models.Order.get_by_id(order_id).order_status)
    assert at_edge == "out_for_delivery"                          # made there
    located = await cloud.fetch("POST", "/partner/location",
                                {"latitude": 40.715, "longitude": -74.005}, token=rider)
    assert located.status == 200, located
    done = await cloud.fetch("POST", "/partner/orders/%d/complete" % order_id,
                             headers={"X-PARTNER-CODE": code(demo, PRIYA)})
    assert done.status == 200 and done.body["data"]["order_status"] == "delivered", done
    # The dispatcher at the till sees it all on the LAN ...
    riders = (await edge.fetch("GET", "/pos/delivery-executives", token=manager)).body
    [row] = [r for r in riders if r["name"] == PRIYA]
    assert (row["status"], row["location"]["lat"]) == ("available", 40.715)
    # ... and head office too, once the edge has pushed.

    async def at_cloud():
        rows = (await cloud.fetch("GET", "/pos/delivery-orders", token=head_office)).body
        return [o for o in rows["data"] if o["id"] == order_id and o["status"] == "delivered"]
    [seen] = await eventually(at_cloud, 5.0)
    assert seen["delivery_executive"]["location"]["lat"] == 40.715
    # An unreachable edge: the rider's writes are refused with a clear 503.
    await edge.close()
    long_ago = datetime.datetime.utcnow() - datetime.timedelta(minutes=6)
    cloud.node.store.call(lambda: SyncNode.update(last_pull_at=long_ago, last_push_at=long_ago)
                          .execute())
    offline = await cloud.fetch("POST", "/partner/location",
                                {"latitude": 40.7, "longitude": -74.0}, token=rider)
    assert offline.status == 503 and int(offline.headers["Retry-After"]) > 0, offline


async def _latest(server, token, order_id):
    resp = await server.fetch("GET", "/partner/orders/latest", token=token)
    data = resp.body["data"] if resp.status == 200 else None
    return data if data and data["id"] == order_id else None


async def test_the_rider_and_the_branch_hear_of_assignments_and_moves(edge, demo):
    manager = await edge.login("manager@demo.test")
    marcus, priya = (demo["delivery_executives"][D][n] for n in (MARCUS, PRIYA))
    rider = await rider_login(edge, demo, MARCUS)
    mine = "private-App.Models.DeliveryExecutive.%d" % marcus
    sock = await Socket.open(edge)
    await sock.connected()
    granted = await edge.fetch("POST", "/partner/broadcasting/auth",
                               {"socket_id": sock.socket_id, "channel_name": mine}, token=rider)
    assert granted.status == 200, granted
    sock.send("pusher:subscribe", dict(channel=mine, **granted.body))
    await sock.expect("pusher_internal:subscription_succeeded")
    # A rider may join their own channel only; a user may not join a rider's.
    for channel in ("private-App.Models.DeliveryExecutive.%d" % priya,
                    events.branch_channel("delivery", demo["branches"][D])):
        refused = await edge.fetch("POST", "/partner/broadcasting/auth",
                                   {"socket_id": sock.socket_id, "channel_name": channel},
                                   token=rider)
        assert refused.status == 403, (channel, refused)
    staff = await edge.fetch("POST", "/broadcasting/auth", {
        "socket_id": sock.socket_id, "channel_name": mine}, token=manager, prefix=False)
    assert staff.status == 403, staff
    desk = await socket_for(edge, events.branch_channel("delivery", demo["branches"][D]),
                            manager)

    order_id, _ = await delivery_for(edge, manager, demo, MARCUS, ready=False)
    for listener in (sock, desk):
        heard = await listener.expect("delivery.assigned")
        assert (heard["data"]["order_id"], heard["data"]["delivery_executive_id"]) == (
            order_id, marcus)
    await edge.fetch("PUT", "/pos/orders/%d/delivery-status" % order_id,
                     {"status": "preparing"}, token=manager)
    for listener in (sock, desk):
        heard = await listener.expect("delivery.updated")
        assert heard["data"]["order_status"] == "preparing"
    # Given to Priya: Marcus hears he no longer has it.
    await edge.fetch("PUT", "/pos/orders/%d/assign-delivery" % order_id,
                     {"delivery_executive_id": priya}, token=manager)
    heard = await sock.expect("delivery.assigned")
    assert (heard["data"]["delivery_executive_id"], heard["data"]["previous_executive_id"]) == (
        priya, marcus)
    sock.close()
    desk.close()


async def test_an_edge_signs_in_its_own_branchs_riders_only(start_node, demo):
    downtown, airport = await start_node("edge", D), await start_node("edge", "Airport")
    cloud = await start_node("cloud")
    other = await downtown.fetch("POST", "/partner/auth/login",
                                 {"unique_code": code(demo, "Luis Ortega", "Airport")})
    assert other.status == 401, other
    assert (await airport.fetch("POST", "/partner/auth/login",
                                {"unique_code": code(demo, "Luis Ortega", "Airport")})).status == 200
    # A Downtown rider's token from the cloud works at Downtown's edge, not at Airport's.
    token = await rider_login(cloud, demo, MARCUS)
    trust(cloud, downtown, airport)
    assert (await downtown.fetch("GET", "/partner/profile", token=token)).status == 200
    elsewhere = await airport.fetch("GET", "/partner/profile", token=token)
    assert elsewhere.status == 403, elsewhere
