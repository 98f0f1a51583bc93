"""The route-table test: every route the servers mount, checked from the table itself.

For every method of every route in ``protocol.routes.api_routes()``, on the Downtown edge and
on the cloud, with a token scoped to Downtown:

- no token → 401 ``{"message": "Unauthenticated."}`` (unless the handler is ``public``);
- a path naming a row of another branch (the demo's Airport, made in the node's own database,
  so the row is there and only scoping can refuse it) → 403 or 404
  ``{"success": false, "message": ...}``;
- an invalid body, for every method that declares a body model → 422 with ``errors`` keyed
  by field, on a row of the caller's own branch.

What the test must know about a route is in ROUTES, one entry per (method, path); a route that
is mounted without an entry fails, saying to add one. A route that answers wrongly is listed in
KNOWN_FAILURES (a strict xfail naming what it answered) until its code is fixed.
"""

import dataclasses
import datetime
import re
import secrets
import string

import pytest

from conftest import PASSWORD
from protocol import (accounts, cash_register, customers, denominations, dispatch, models,
                      notifications, orders, reservations)
from protocol.handlers.base import APIHandler
from protocol.handlers.cash_register import DenominationBody, OpenSessionBody, RegisterBody
from protocol.handlers.delivery import AssignBody
from protocol.handlers.orders import OrderBody
from protocol.handlers.reservations import ReservationBody
from protocol.routes import PREFIX, api_routes

NODES = ("edge", "cloud")
OWN, OTHER = "Downtown", "Airport"
TOKEN_USER = "owner@demo.test"     # works in both branches: only the token's scope refuses
MADE_BY = {OWN: TOKEN_USER, OTHER: "airport.manager@demo.test"}   # who makes the rows


@dataclasses.dataclass(frozen=True)
class Route:
    """What the test must know about one method of one route."""
    path: str = None      # the path to call, ids as {row} placeholders (ROWS); None: the key's
    body: dict = None     # a valid body, so that a write reaches its row lookup
    invalid: dict = None  # a body the method's model refuses (exactly when it declares one)
    rider: bool = False   # called with a Downtown rider's token (the rider app's routes)

    def target(self, key_path):
        return self.path or key_path


# Placeholders a path may name (ROWS, below): ids of rows of the branch the check is about.
CATALOG_ROWS = {"item", "category", "menu", "table", "order_type", "branch"}
ORDER = "/pos/orders/{order}"
CASH = "/pos/cash-register"
PLATFORM = "/pos/delivery-platforms/{platform}"
RIDER = "/pos/delivery-executives/{executive}"

ROUTES = {
    ("POST", "/auth/login"): Route(invalid={"email": "not-an-email", "password": 5}),
    ("GET", "/auth/me"): Route(),
    ("POST", "/auth/logout"): Route(),
    ("POST", "/platform/switch-branch"): Route(invalid={"branch_id": "Airport"}),
    ("GET", "/platform/config"): Route(),
    ("GET", "/platform/edge"): Route(),
    ("GET", "/openapi.json"): Route(),
    # Catalog
    ("GET", "/pos/menus"): Route(),
    ("GET", "/pos/categories"): Route(),
    ("GET", "/pos/items"): Route(),
    ("GET", "/pos/items/category/{category_id}"): Route("/pos/items/category/{category}"),
    ("GET", "/pos/items/menu/{menu_id}"): Route("/pos/items/menu/{menu}"),
    ("GET", "/pos/items/{item_id}"): Route("/pos/items/{item}"),
    ("GET", "/pos/items/{item_id}/variations"): Route("/pos/items/{item}/variations"),
    ("GET", "/pos/items/{item_id}/modifier-groups"): Route("/pos/items/{item}/modifier-groups"),
    ("GET", "/pos/order-types"): Route(),
    ("GET", "/pos/extra-charges/{order_type}"): Route("/pos/extra-charges/{order_type}"),
    ("GET", "/pos/delivery-platforms"): Route(),
    ("GET", "/pos/actions"): Route(),
    ("GET", "/pos/taxes"): Route(),
    ("GET", "/pos/restaurants"): Route(),
    ("GET", "/pos/branches"): Route(),
    ("GET", "/pos/get-order-number"): Route(),
    # Orders and payments
    ("GET", "/pos/orders"): Route(),
    ("POST", "/pos/orders"): Route(invalid={"items": "x"}),
    ("GET", "/pos/orders/{order_id}"): Route(ORDER),
    ("PUT", "/pos/orders/{order_id}"): Route(ORDER, body={"pax": 2}, invalid={"pax": "many"}),
    ("PUT", "/pos/orders/{order_id}/items"): Route(
        ORDER + "/items", body={"items": [{"action": "remove", "order_item_id": 1}]},
        invalid={"items": "x"}),
    ("POST", "/pos/orders/{order_id}/status"): Route(
        ORDER + "/status", body={"status": "served"}, invalid={"status": ["served"]}),
    ("POST", "/pos/orders/{order_id}/kot"): Route(
        ORDER + "/kot", body={}, invalid={"order_item_ids": "all"}),
    ("POST", "/pos/orders/{order_id}/pay"): Route(
        ORDER + "/pay", body={"amount": 1, "method": "cash"}, invalid={"amount": "lots"}),
    ("POST", "/pos/orders/{order_id}/split-payments"): Route(
        ORDER + "/split-payments", body={"amount": 1, "payment_method": "cash"},
        invalid={"amount": 1, "payment_method": "cheque"}),
    ("POST", "/pos/orders/{order_id}/tip"): Route(
        ORDER + "/tip", body={"amount": 1}, invalid={"amount": -1}),
    # Kitchen
    ("GET", "/pos/orders/{order_id}/kots"): Route(ORDER + "/kots"),
    ("GET", "/pos/kots"): Route(),
    ("GET", "/pos/kots/{kot_id}"): Route("/pos/kots/{kot}"),
    ("PUT", "/pos/kots/{kot_id}/status"): Route(
        "/pos/kots/{kot}/status", body={"status": "served"}, invalid={"status": ["served"]}),
    ("PUT", "/pos/kot-items/{item_id}/status"): Route(
        "/pos/kot-items/{kot_item}/status", body={"status": "ready"}, invalid={"status": None}),
    ("GET", "/pos/kot-places"): Route(),
    ("GET", "/pos/kot-cancel-reasons"): Route(),
    # Tables
    ("GET", "/pos/tables"): Route(),
    ("POST", "/pos/tables/{table_id}/unlock"): Route("/pos/tables/{table}/unlock"),
    ("GET", "/areas"): Route(),
    # Reservations
    ("GET", "/pos/reservations/today"): Route(),
    ("GET", "/pos/reservations"): Route(),
    ("POST", "/pos/reservations"): Route(
        invalid={"table_id": "T1", "party_size": 0, "reservation_date_time": "soon"}),
    ("POST", "/pos/reservations/{reservation_id}/status"): Route(
        "/pos/reservations/{reservation}/status", body={"status": "Confirmed"},
        invalid={"status": ["Confirmed"]}),
    # Customers and their addresses
    ("GET", "/pos/customers"): Route(),
    ("POST", "/pos/customers"): Route(invalid={"name": 5, "email": "not-an-email"}),
    ("GET", "/customer/customers"): Route(),
    ("POST", "/customer/customers"): Route(invalid={"name": 5, "email": "not-an-email"}),
    ("DELETE", "/pos/customers/{customer_id}"): Route("/pos/customers/{customer}"),
    ("GET", "/pos/phone-codes"): Route(),
    ("GET", "/customer-addresses"): Route("/customer-addresses?customer_id={customer}"),
    ("POST", "/customer-addresses"): Route(
        invalid={"customer_id": "one", "address": "", "lat": 91, "lng": -181}),
    ("PUT", "/customer-addresses/{address_id}"): Route(
        "/customer-addresses/{address}", body={"label": "Work"},
        invalid={"lat": -90.5, "lng": "east"}),
    ("DELETE", "/customer-addresses/{address_id}"): Route("/customer-addresses/{address}"),
    # Staff and platform
    ("GET", "/pos/waiters"): Route(),
    ("GET", "/pos/delivery-executives"): Route(),
    ("GET", "/roles"): Route(),
    ("GET", "/platform/roles"): Route(),
    ("GET", "/staff"): Route(),
    ("GET", "/platform/staff"): Route(),
    ("GET", "/platform/permissions"): Route(),
    ("GET", "/languages"): Route(),
    ("GET", "/currencies"): Route(),
    ("GET", "/payment-gateways"): Route(),
    ("GET", "/platform/printers"): Route(),
    ("GET", "/platform/receipt-settings"): Route(),
    # Notifications
    ("GET", "/pos/notifications"): Route(),
    ("POST", "/pos/notifications/register-token"): Route(
        invalid={"token": "", "platform": "fax"}),
    ("POST", "/pos/notifications/test"): Route(invalid={"title": "", "body": 5}),
    ("POST", "/pos/notifications/{notification_id}/read"): Route(
        "/pos/notifications/{notification}/read"),
    ("GET", "/pos/notifications/push-settings"): Route(),
    ("GET", "/pos/notifications/{notification_id}/deliveries"): Route(
        "/pos/notifications/{notification}/deliveries"),
    # Customer app
    ("GET", "/customer/catalog"): Route(),
    ("GET", "/customer/orders"): Route("/customer/orders?customer_id={customer}"),
    ("POST", "/customer/orders"): Route(invalid={"items": "x"}),
    # Realtime settings and channel auth
    ("GET", "/pusher/settings"): Route(),
    ("GET", "/pusher/broadcast-settings"): Route(),
    ("GET", "/pusher/beams-settings"): Route(),
    ("GET", "/pusher/status"): Route(),
    ("POST", "/pusher/authorize-channel"): Route(
        body={"socket_id": "1.2", "channel_name": "private-orders.branch.1"},
        invalid={"socket_id": "one", "channel_name": 5}),
    ("GET", "/pusher/diagnostics"): Route(),
    ("GET", "/pusher/presence/{channel}/members"): Route(
        "/pusher/presence/presence-floor.branch.{branch}/members"),
    # Cash drawer
    ("GET", CASH + "/registers"): Route(),
    ("POST", CASH + "/registers"): Route(invalid={"name": "", "is_active": "maybe"}),
    ("GET", CASH + "/registers/{register_id}"): Route(CASH + "/registers/{register}"),
    ("PUT", CASH + "/registers/{register_id}"): Route(
        CASH + "/registers/{register}", body={"name": "Front till"},
        invalid={"is_active": "maybe"}),
    ("DELETE", CASH + "/registers/{register_id}"): Route(CASH + "/registers/{register}"),
    ("GET", CASH + "/sessions"): Route(),
    ("GET", CASH + "/sessions/active"): Route(),
    ("POST", CASH + "/sessions/open"): Route(invalid={"cash_register_id": "till"}),
    ("GET", CASH + "/sessions/{session_id}"): Route(CASH + "/sessions/{session}"),
    ("POST", CASH + "/sessions/{session_id}/close"): Route(
        CASH + "/sessions/{session}/close", body={"counted_cash": 0},
        invalid={"counted_cash": "all"}),
    ("GET", CASH + "/sessions/{session_id}/summary"): Route(CASH + "/sessions/{session}/summary"),
    ("GET", CASH + "/sessions/{session_id}/transactions"): Route(
        CASH + "/sessions/{session}/transactions"),
    ("POST", CASH + "/transactions/cash-in"): Route(invalid={"amount": 0}),
    ("POST", CASH + "/transactions/cash-out"): Route(invalid={"amount": "ten"}),
    ("POST", CASH + "/transactions/safe-drop"): Route(invalid={"amount": -1}),
    ("GET", CASH + "/denominations"): Route(),
    ("POST", CASH + "/denominations"): Route(invalid={"name": "Fifty", "value": 0}),
    ("GET", CASH + "/denominations/{uuid}"): Route(CASH + "/denominations/{denomination}"),
    ("PUT", CASH + "/denominations/{uuid}"): Route(
        CASH + "/denominations/{denomination}", body={"name": "Big note"},
        invalid={"type": "cheque"}),
    ("DELETE", CASH + "/denominations/{uuid}"): Route(CASH + "/denominations/{denomination}"),
    ("GET", CASH + "/reports/daily"): Route(),
    # MultiPOS devices
    ("POST", "/pos/multi-pos/register"): Route(invalid={"branch_id": "here", "platform": 5}),
    ("GET", "/pos/multi-pos/check"): Route(),
    # Delivery settings and fee
    ("GET", "/pos/delivery-settings"): Route(),
    ("PUT", "/pos/delivery-settings"): Route(
        body={"prep_time_minutes": 25}, invalid={"avg_delivery_speed_kmh": 0, "unit": "leagues"}),
    ("POST", "/pos/delivery-fee/calculate"): Route(invalid={"lat": 91, "lng": "east"}),
    ("GET", "/pos/delivery-fee-tiers"): Route(),
    # Delivery platforms and riders
    ("POST", "/pos/delivery-platforms"): Route(
        body={"name": "Courier"}, invalid={"name": "", "commission_value": 101}),
    ("GET", "/pos/delivery-platforms/{platform_id}"): Route(PLATFORM),
    ("PUT", "/pos/delivery-platforms/{platform_id}"): Route(
        PLATFORM, body={"name": "Renamed"}, invalid={"commission_type": "fixed",
                                                     "is_active": "maybe"}),
    ("DELETE", "/pos/delivery-platforms/{platform_id}"): Route(PLATFORM),
    ("POST", "/pos/delivery-executives"): Route(
        body={"name": "Rider"}, invalid={"name": 5, "status": "asleep"}),
    ("PUT", "/pos/delivery-executives/{executive_id}"): Route(
        RIDER, body={"name": "Renamed"}, invalid={"status": "asleep", "phone": 5}),
    ("DELETE", "/pos/delivery-executives/{executive_id}"): Route(RIDER),
    ("PUT", "/pos/delivery-executives/{executive_id}/status"): Route(
        RIDER + "/status", body={"status": "inactive"}, invalid={"status": "on_break"}),
    # Dispatch
    ("PUT", "/pos/orders/{order_id}/assign-delivery"): Route(
        "/pos/orders/{delivery}/assign-delivery", body={"delivery_executive_id": None},
        invalid={"delivery_executive_id": "Marcus"}),
    ("PUT", "/pos/orders/{order_id}/delivery-status"): Route(
        "/pos/orders/{delivery}/delivery-status", body={"status": "out_for_delivery"},
        invalid={"status": "lost"}),
    ("GET", "/pos/delivery-orders"): Route(),
    # The rider app (a rider's token)
    ("POST", "/partner/auth/login"): Route(invalid={"unique_code": ""}, rider=True),
    ("POST", "/partner/auth/logout"): Route(rider=True),
    ("GET", "/partner/profile"): Route(rider=True),
    ("GET", "/partner/orders/latest"): Route(rider=True),
    ("GET", "/partner/orders/history"): Route(rider=True),
    ("POST", "/partner/orders/{order_id}/start"): Route(
        "/partner/orders/{delivery}/start", rider=True),
    ("POST", "/partner/orders/{order_id}/status"): Route(
        "/partner/orders/{delivery}/status", body={"status": "on_way"},
        invalid={"status": "lost"}, rider=True),
    ("POST", "/partner/orders/{order_id}/complete"): Route(
        "/partner/orders/{delivery}/complete", rider=True),
    ("POST", "/partner/location"): Route(invalid={"latitude": 91}, rider=True),
    ("POST", "/partner/fcm-token"): Route(invalid={"platform": "nokia"}, rider=True),
    ("POST", "/partner/devices/register"): Route(invalid={"token": ""}, rider=True),
    ("POST", "/partner/devices/unregister"): Route(invalid={"device_id": 5}, rider=True),
    ("POST", "/partner/broadcasting/auth"): Route(invalid={"socket_id": "x"}, rider=True),
    # Head office: every branch of the restaurant (tests/test_head_office.py)
    ("GET", "/head-office/orders"): Route(),
    ("GET", "/head-office/kots"): Route(),
    ("GET", "/head-office/reservations"): Route(),
    ("GET", "/head-office/payments"): Route(),
    ("GET", "/head-office/sales"): Route(),
    ("GET", "/head-office/branches"): Route(),
}

# (check, node, method, path) -> what the route answers instead, for a strict xfail.
# check is "401", "other-branch" or "422".
KNOWN_FAILURES = {}


# --- the route table ---------------------------------------------------------------------

def _mounted():
    """{(METHOD, path with {group} names): (full pattern, handler)} for every method served."""
    mounted = {}
    for pattern, handler in api_routes():
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern[len(PREFIX):])
        for method in ("get", "post", "put", "patch", "delete"):
            if getattr(handler, method) is not getattr(APIHandler, method):
                mounted[(method.upper(), path)] = (pattern, handler)
    return mounted


MOUNTED = _mounted()


def placeholders(path):
    return {name for _, name, _, _ in string.Formatter().parse(path) if name}


class AnyId(dict):
    """Fills every placeholder with an id (for checks that never reach a row)."""

    def __missing__(self, key):
        return 1


def route_of(method, path):
    route = ROUTES.get((method, path))
    if route is None:
        pytest.fail("%s %s is mounted but has no entry in ROUTES of tests/test_route_table.py: "
                    "add one (a path with {row} placeholders when it takes ids, a valid body "
                    "for a write, an invalid body when it declares a body model)."
                    % (method, path))
    return route


def params(check, applies):
    """pytest params (node, method, path) of every mounted route ``applies`` to."""
    out = []
    for (method, path), (_, handler) in sorted(MOUNTED.items(), key=lambda kv: kv[0][::-1]):
        if not applies(handler, method, ROUTES.get((method, path))):
            continue
        for node in NODES:
            reason = KNOWN_FAILURES.get((check, node, method, path))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(node, method, path, marks=marks,
                                    id="%s-%s %s" % (node, method, path)))
    return out


def takes_rows(handler, method, route):
    return route is None or bool(placeholders(route.path or ""))


def declares_body(handler, method, route):
    return method.lower() in handler.bodies


# --- rows of a branch, in the node's own database ----------------------------------------
# OWN rows are the caller's (the control: they are found); OTHER rows are the Airport's, or
# another restaurant's for restaurant-wide rows (customers and their addresses).

def catalog_rows(demo, branch):
    def first(kind):
        return next(iter(demo[kind][branch].values()))
    return {"item": demo["items"][branch]["Espresso"], "category": first("categories"),
            "menu": first("menus"), "table": first("tables"),
            "order_type": demo["order_types"][branch]["pickup"],
            "branch": demo["branches"][branch]}


def kot_order(demo, branch, actor, now):
    """A pickup order sent to the kitchen: {order, kot, kot_item}."""
    body = OrderBody.model_validate({"order_type": "pickup", "actions": ["kot"], "items": [
        {"id": demo["items"][branch]["Espresso"]}]})
    made = orders.create_order(actor, body, now)
    [kot_id] = made["kot_ids"]
    return {"order": made["order"]["id"], "kot": kot_id,
            "kot_item": models.KotItem.get(models.KotItem.kot == kot_id).id}


def notification(demo, branch, actor, now):
    """A notification for the maker, in their branch: {notification}."""
    made = notifications.notify(actor.user_id, actor.branch_id, "test", "Hello",
                                "A notification at %s." % branch, now=now)
    return {"notification": made.id}


def customer_address(demo, branch, actor, now):
    """An address and its customer: the demo restaurant's, or another restaurant's."""
    if branch == OWN:
        address = (models.CustomerAddress.select().join(models.Customer)
                   .where(models.Customer.restaurant == actor.restaurant_id).first())
    else:
        elsewhere = models.Restaurant.create(name="Elsewhere Bistro", hash=secrets.token_hex(16))
        someone = customers.upsert(elsewhere.id, name="Someone Else", phone="5550100", now=now)
        address = models.CustomerAddress.create(customer=someone, label="Home",
                                                address="1 Elsewhere Road")
    return {"customer": address.customer_id, "address": address.id}


def reservation(demo, branch, actor, now):
    """Tomorrow evening's reservation of the branch's first table: {reservation}."""
    evening = (now + datetime.timedelta(days=1)).replace(hour=19, minute=0, second=0,
                                                         microsecond=0)
    body = ReservationBody.model_validate({
        "table_id": next(iter(demo["tables"][branch].values())), "party_size": 2,
        "reservation_date_time": evening.isoformat(), "name": "Pat Guest"})
    return {"reservation": reservations.create(actor, body, now)["id"]}


def cash_drawer(demo, branch, actor, now):
    """A register, a session the maker opened on it, and a denomination of the branch."""
    register = cash_register.create_register(
        actor, RegisterBody(name="Till %s" % branch), now)["data"]["id"]
    session = cash_register.open_session(
        actor, OpenSessionBody(cash_register_id=register, opening_float=20), now)["data"]["id"]
    note = denominations.create(actor, DenominationBody(name="Ten", value=10), now)["data"]
    idle = cash_register.create_register(actor, RegisterBody(name="Spare"), now)["data"]["id"]
    return {"register": idle, "session": session, "denomination": note["uuid"]}


def delivery_staff(demo, branch, actor, now):
    """A delivery platform and a rider of the branch: {platform, executive}."""
    platform = models.DeliveryPlatform.create(branch=actor.branch_id, name="Courier " + branch)
    rider = models.DeliveryExecutive.create(branch=actor.branch_id, name="Rider " + branch)
    return {"platform": platform.id, "executive": rider.id}


def delivery(demo, branch, actor, now):
    """A delivery order ready for pickup, assigned to the branch's first rider (the one
    whose rider token the rider app's routes are called with): {delivery}."""
    rider = next(iter(demo["delivery_executives"][branch].values()))
    body = OrderBody.model_validate({"order_type": "delivery", "items": [
        {"id": demo["items"][branch]["Espresso"]}]})
    order_id = orders.create_order(actor, body, now)["order"]["id"]
    dispatch.assign(actor, order_id, AssignBody(delivery_executive_id=rider), now)
    for status in ("preparing", "ready_for_pickup"):
        dispatch.set_delivery_status(actor, order_id, status, now)
    return {"delivery": order_id}


MAKERS = {"delivery": delivery, "platform": delivery_staff, "executive": delivery_staff,
          "order": kot_order, "kot": kot_order, "kot_item": kot_order,
          "reservation": reservation, "notification": notification, "customer": customer_address,
          "address": customer_address, "register": cash_drawer, "session": cash_drawer,
          "denomination": cash_drawer}
ROWS = CATALOG_ROWS | set(MAKERS)


def make_rows(demo, branch, makers, now):
    user = models.User.get(models.User.email == MADE_BY[branch])
    actor = accounts.actor_for(user, demo["branches"][branch])
    ids = {}
    for make in makers:
        ids.update(make(demo, branch, actor, now))
    return ids


def fill(server, demo, path, branch):
    """path with its placeholders filled with ids of branch's rows (made when needed)."""
    ids = catalog_rows(demo, branch)
    makers = {MAKERS[name] for name in placeholders(path) if name in MAKERS}
    if makers:
        ids.update(server.node.store.call(make_rows, demo, branch, makers,
                                          server.node.clock.now()))
    return path.format(**ids)


async def downtown_token(server, demo, route=None):
    if route is not None and route.rider:
        code = next(iter(demo["rider_codes"][OWN].values()))
        resp = await server.fetch("POST", "/partner/auth/login", {"unique_code": code})
        assert resp.status == 200, resp
        return resp.body["data"]["access_token"]
    resp = await server.fetch("POST", "/auth/login",
                              {"email": TOKEN_USER, "password": PASSWORD})
    assert resp.status == 200, resp
    assert resp.body["data"]["user"]["branch_id"] == demo["branches"][OWN]
    return resp.body["data"]["access_token"]


# --- the checks --------------------------------------------------------------------------

def test_every_mounted_route_has_an_entry_and_every_entry_a_route():
    missing = sorted(set(MOUNTED) - set(ROUTES))
    assert not missing, ("mounted without an entry: add them to ROUTES in "
                         "tests/test_route_table.py: %s" % missing)
    stale = sorted(set(ROUTES) - set(MOUNTED))
    assert not stale, "ROUTES has entries for routes no longer mounted: %s" % stale


def test_every_entry_fits_its_route():
    problems = []
    for key, route in sorted(ROUTES.items()):
        if key not in MOUNTED:
            continue
        (method, path), (pattern, handler) = key, MOUNTED[key]
        target = route.target(path)
        unknown = placeholders(target) - ROWS
        if unknown:
            problems.append("%s %s: unknown placeholders %s (rows: %s)"
                            % (method, path, sorted(unknown), sorted(ROWS)))
            continue
        if not re.fullmatch(pattern, PREFIX + target.format_map(AnyId()).split("?")[0]):
            problems.append("%s %s: %s does not match the route" % (method, path, target))
        if "(?P<" in pattern and not placeholders(target):
            problems.append("%s %s takes an id: name a row in its path" % (method, path))
        if (route.invalid is not None) != declares_body(handler, method, route):
            problems.append("%s %s: an invalid body is needed exactly when the method "
                            "declares a body model" % (method, path))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("node, method, path", params("401", lambda h, m, r: not h.public))
async def test_no_token_is_401(start_node, node, method, path):
    route = route_of(method, path)
    server = await start_node(node)
    resp = await server.fetch(method, route.target(path).format_map(AnyId()), route.body)
    assert resp.status == 401, resp
    assert resp.body == {"message": "Unauthenticated."}


@pytest.mark.parametrize("node, method, path", params("other-branch", takes_rows))
async def test_a_row_of_another_branch_is_403_or_404(start_node, demo, node, method, path):
    route = route_of(method, path)
    server = await start_node(node)
    token = await downtown_token(server, demo, route)
    target = fill(server, demo, route.target(path), OTHER)
    resp = await server.fetch(method, target, route.body, token=token)
    assert resp.status in (403, 404), (target, resp)
    assert resp.body["success"] is False and resp.body["message"], (target, resp)
    # The same request on a Downtown row gets past the lookup: the refusal was the scope.
    own = fill(server, demo, route.target(path), OWN)
    control = await server.fetch(method, own, route.body, token=token)
    assert control.status not in (403, 404) and control.status < 500, (own, control)


@pytest.mark.parametrize("node, method, path", params("422", declares_body))
async def test_an_invalid_body_is_422_with_field_errors(start_node, demo, node, method, path):
    route = route_of(method, path)
    assert route.invalid is not None, "give ROUTES[(%r, %r)] an invalid body" % (method, path)
    model = MOUNTED[(method, path)][1].bodies[method.lower()]
    server = await start_node(node)
    token = await downtown_token(server, demo, route)
    target = fill(server, demo, route.target(path), OWN)
    resp = await server.fetch(method, target, route.invalid, token=token)
    assert resp.status == 422, (target, route.invalid, resp)
    errors = resp.body["errors"]
    assert errors and all(messages and all(isinstance(m, str) and m for m in messages)
                          for messages in errors.values()), resp
    fields = {f.alias or name for name, f in model.model_fields.items()} | set(model.model_fields)
    assert any(key.split(".")[0] in fields for key in errors), (
        "the 422 names no field of %s: %s" % (model.__name__, errors))
    assert resp.body["message"].startswith(next(iter(errors.values()))[0]), resp
