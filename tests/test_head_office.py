"""Head office: every branch's orders, KOTs, reservations, payments, sales and sync
state, read at the cloud by owners (and at an edge, for the branch it holds)."""

import asyncio
import datetime
import re
import secrets

from protocol import models
from protocol.clock import FakeClock
from protocol.passwords import hash_password
from protocol.routes import PREFIX
from sync import apply
from sync.models import SyncNode
from test_fuzzing import Tally, fuzz
from test_sync import enrolled, eventually, listening  # noqa: F401 - the enrolled fixture

D, A = "Downtown", "Airport"
ROUTES = ("/head-office/orders", "/head-office/kots", "/head-office/reservations",
          "/head-office/payments", "/head-office/sales", "/head-office/branches")
# 2026-03-10 16:00 UTC: 12:00 in New York (Downtown), 01:00 on the 11th in Tokyo (Airport,
# moved there by the sales test so that the two branches' days differ).
SHIFT = datetime.datetime(2026, 3, 10, 16, 0, tzinfo=datetime.timezone.utc)


def order_body(demo, branch, *lines, **fields):
    return dict({"order_type": "pickup", "items": [
        {"id": demo["items"][branch][name], "quantity": quantity} for name, quantity in lines]},
        **fields)


async def make(server, token, method, path, body=None, status=200):
    resp = await server.fetch(method, path, body, token=token)
    assert resp.status == status, (path, resp)
    return resp.body


def other_restaurant(now):
    """Another restaurant with a branch, its owner and an order, in the node's database."""
    restaurant = models.Restaurant.create(name="Elsewhere Bistro", hash=secrets.token_hex(16))
    branch = models.Branch.create(restaurant=restaurant, name="Elsewhere", address="1 Road",
                                  timezone="UTC")
    role = models.Role.create(restaurant=restaurant, name="owner", display_name="Owner")
    owner = models.User.create(restaurant=restaurant, branch=branch, name="Other Owner",
                               email="owner@elsewhere.test",
                               password_hash=hash_password("elsewhere123"))
    models.UserRole.create(user=owner, role=role)
    models.UserBranch.create(user=owner, branch=branch)
    order = models.Order.create(branch=branch, order_number=1, formatted_order_number="E-1",
                                status="paid", sub_total=50, total=50, amount_paid=50,
                                date_time=now, created_at=now, updated_at=now)
    return {"branch": branch.id, "order": order.id}


async def test_an_edges_orders_reach_head_office_with_their_branch(enrolled, demo):  # noqa: F811
    cloud, edge = enrolled
    downtown, airport = demo["branches"][D], demo["branches"][A]
    waiter = await edge.login("waiter@demo.test")
    at_edge = await make(edge, waiter, "POST", "/pos/orders", order_body(
        demo, D, ("Grilled Salmon", 1), actions=["kot"]), status=201)
    await make(edge, waiter, "POST", "/pos/orders/%d/pay" % at_edge["order"]["id"],
               {"method": "card"})
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    booked = await make(edge, waiter, "POST", "/pos/reservations", {
        "table_id": demo["tables"][D]["T3"], "party_size": 2, "name": "Pat Guest",
        "reservation_date_time": tomorrow + " 19:00:00"}, status=201)
    # Airport has no edge: the cloud serves it, and its waiter orders there.
    airport_waiter = await cloud.login("airport.waiter@demo.test")
    at_cloud = await make(cloud, airport_waiter, "POST", "/pos/orders", order_body(
        demo, A, ("Espresso", 2), actions=["kot"]), status=201)
    await make(cloud, airport_waiter, "POST", "/pos/orders/%d/pay" % at_cloud["order"]["id"],
               {"method": "cash"})

    owner = await cloud.login("owner@demo.test")

    async def both_paid():
        listing = await make(cloud, owner, "GET", "/head-office/orders")
        paid = {o["id"]: o for o in listing["data"] if o["status"] == "paid"}
        return paid if len(paid) == 2 else None
    listed = await eventually(both_paid, timeout=3.0)
    edge_order, cloud_order = listed[at_edge["order"]["id"]], listed[at_cloud["order"]["id"]]
    assert (edge_order["branch_id"], edge_order["branch"]) == (downtown, D)
    assert (cloud_order["branch_id"], cloud_order["branch"]) == (airport, A)
    assert edge_order["total"] == at_edge["order"]["total"]

    only_downtown = await make(cloud, owner, "GET", "/head-office/orders?branch_id=%d" % downtown)
    assert [o["id"] for o in only_downtown["data"]] == [at_edge["order"]["id"]]
    assert only_downtown["total"] == 1
    only_airport = await make(cloud, owner, "GET",
                              "/head-office/orders?branch_id=%d&status=paid" % airport)
    assert [o["id"] for o in only_airport["data"]] == [at_cloud["order"]["id"]]

    kots = await make(cloud, owner, "GET", "/head-office/kots")
    assert sorted((k["order_id"], k["branch"]) for k in kots["data"]) == sorted(
        [(at_edge["order"]["id"], D), (at_cloud["order"]["id"], A)])
    assert kots["meta"]["total"] == 2

    paid = await make(cloud, owner, "GET", "/head-office/payments")
    assert sorted((p["branch"], p["payment_method"], p["amount"]) for p in paid["data"]) == \
        sorted([(D, "card", at_edge["order"]["total"]), (A, "cash", at_cloud["order"]["total"])])
    cards = await make(cloud, owner, "GET", "/head-office/payments?payment_method=card")
    assert [p["order_id"] for p in cards["data"]] == [at_edge["order"]["id"]]

    async def reservation_arrived():
        page = await make(cloud, owner, "GET", "/head-office/reservations?date=" + tomorrow)
        return page["data"] or None
    [reservation] = await eventually(reservation_arrived, timeout=3.0)
    assert (reservation["id"], reservation["branch"], reservation["time"]) == (
        booked["id"], D, "07:00 PM")

    # Sync state: Downtown is run by its edge, online, its outbox empty; Airport by the cloud.
    async def downtown_caught_up():
        states = await make(cloud, owner, "GET", "/head-office/branches")
        sync = {b["name"]: b["sync"] for b in states["data"]}
        return sync if sync[D]["outbox_depth"] == 0 else None
    sync = await eventually(downtown_caught_up, timeout=25.0)
    assert sync[D]["served_by"] == "edge" and sync[D]["online"] is True
    assert sync[D]["listening"] is True
    assert sync[D]["node_id"] == edge.node.node_id and sync[D]["last_seen_at"]
    assert sync[D]["seconds_since_seen"] < 60 and sync[D]["feed_lag"] >= 0
    assert sync[A]["served_by"] == "cloud" and "cloud serves it" in sync[A]["message"]
    assert set(sync) == {D, A}

    # The same route at the edge: its own view of the same branch.
    edge_owner = await edge.login("owner@demo.test")
    states = await make(edge, edge_owner, "GET", "/head-office/branches")
    [own] = states["data"]
    assert own["name"] == D and own["sync"]["served_by"] == "edge"
    assert own["sync"]["online"] is True and own["sync"]["outbox_depth"] == 0
    elsewhere = await edge.fetch("GET", "/head-office/orders?branch_id=%d" % airport,
                                 token=edge_owner)
    assert elsewhere.status == 403 and "ask the cloud for Airport" in elsewhere.body["message"]


async def test_an_edges_outbox_depth_shows_at_head_office(enrolled, demo,  # noqa: F811
                                                          monkeypatch):
    """While the cloud cannot take an edge's changes, head office sees them waiting
    in the edge's outbox (as the edge reports with its pulls), then sees it empty."""
    cloud, edge = enrolled
    owner = await cloud.login("owner@demo.test")

    async def downtown_sync():
        states = await make(cloud, owner, "GET", "/head-office/branches?branch_id=%d"
                            % demo["branches"][D])
        return states["data"][0]["sync"]

    def broken(change):
        raise TypeError("a bug")
    monkeypatch.setattr(apply, "apply_change", broken)        # every push fails (500)
    waiter = await edge.login("waiter@demo.test")
    for _ in range(3):
        await make(edge, waiter, "POST", "/pos/orders", order_body(
            demo, D, ("Espresso", 1)), status=201)
    manager = await edge.login("manager@demo.test")
    resp = await edge.fetch("GET", "/sync/status", token=manager, prefix=False)
    waiting = resp.body["outbox_depth"]
    assert waiting > 0

    def new_price():       # a head-office change: the edge's long poll answers at once
        models.MenuItem.update(price=models.MenuItem.price + 1).where(
            models.MenuItem.id == demo["items"][D]["Tiramisu"]).execute()
    cloud.node.store.call(new_price)

    async def reported():
        sync = await downtown_sync()
        return sync if sync["outbox_depth"] == waiting else None
    sync = await eventually(reported, timeout=10.0)
    assert sync["served_by"] == "edge" and sync["online"] is True
    assert sync["outbox_reported_at"]

    monkeypatch.undo()                                        # mended: the pushes go
    cloud.node.store.call(new_price)

    async def emptied():
        sync = await downtown_sync()
        return sync if sync["outbox_depth"] == 0 else None
    await eventually(emptied, timeout=20.0)


async def test_head_office_sees_an_edge_go_offline(enrolled, demo):  # noqa: F811
    cloud, edge = enrolled
    owner = await cloud.login("owner@demo.test")

    async def downtown(check):
        states = await make(cloud, owner, "GET", "/head-office/branches")
        sync = {b["name"]: b["sync"] for b in states["data"]}[D]
        return sync if check(sync) else None
    await eventually(lambda: downtown(lambda s: s["listening"]), timeout=5.0)
    # closed while a pull is open, the edge hangs up on it (as test_sync does)
    await listening(cloud, edge)
    await edge.close()
    sync = await eventually(lambda: downtown(lambda s: s["listening"] is False), timeout=10.0)
    assert sync["online"] is True          # heard from within the minute
    long_ago = cloud.node.clock.now() - datetime.timedelta(minutes=6)
    cloud.node.store.call(lambda: SyncNode.update(last_pull_at=long_ago, last_push_at=long_ago)
                          .execute())
    sync = await downtown(lambda s: True)
    assert sync["online"] is False and sync["seconds_since_seen"] >= 360
    assert "offline since " + long_ago.isoformat() in sync["message"]


async def test_the_sales_of_each_branch_and_day_add_up_by_hand(start_node, demo):
    clock = FakeClock(SHIFT.timestamp())
    cloud = await start_node("cloud", clock=clock)
    # Airport moves to Tokyo: 16:00 UTC is the 10th in New York and the 11th there.
    cloud.node.store.call(lambda: models.Branch.update(timezone="Asia/Tokyo").where(
        models.Branch.id == demo["branches"][A]).execute())
    owner = await cloud.login("owner@demo.test")
    manager = await cloud.login("airport.manager@demo.test")

    # Pickup prices are 95 % of the menu's, rounded half-up to the cent.
    # Downtown: 1 salmon 20.90 + 2 espressos 2.85 = 26.60, less 4.00 off = 22.60; tax
    # 8.875 % = 2.01 (2.00575) and 2.5 % = 0.57 (0.565); packaging 1.50: 26.68, and a
    # 2.00 tip: 28.68, paid 20.00 by card (a split) and the 8.68 left in cash.
    first = (await make(cloud, owner, "POST", "/pos/orders", order_body(
        demo, D, ("Grilled Salmon", 1), ("Espresso", 2), discount_type="fixed",
        discount_value=4, actions=["bill"]), status=201))["order"]
    assert (first["sub_total"], first["financials"]["discount_amount"], first["tax_total"],
            first["total"]) == (26.6, 4, 2.58, 26.68), first
    tipped = await make(cloud, owner, "POST", "/pos/orders/%d/tip" % first["id"],
                        {"amount": 2})
    assert tipped["total"] == 28.68
    await make(cloud, owner, "POST", "/pos/orders/%d/split-payments" % first["id"],
               {"amount": 20, "payment_method": "card"})
    rest = await make(cloud, owner, "POST", "/pos/orders/%d/pay" % first["id"],
                      {"method": "cash"})
    assert rest["amount"] == 8.68 and rest["status"] == "paid"
    # A tiramisu, cancelled: 8.08 (8.075) + 0.72 + 0.20 tax + 1.50 packaging = 10.50.
    second = (await make(cloud, owner, "POST", "/pos/orders", order_body(
        demo, D, ("Tiramisu", 1)), status=201))["order"]
    await make(cloud, owner, "PUT", "/pos/orders/%d" % second["id"], {"actions": ["cancel"]})
    # A draft is not a sale.
    await make(cloud, owner, "POST", "/pos/orders", order_body(demo, D, ("Espresso", 1)),
               status=201)
    # Airport: a latte 4.51 (4.5125) + 0.40 + 0.11 tax + 1.50 = 6.52, by card.
    latte = (await make(cloud, manager, "POST", "/pos/orders", order_body(
        demo, A, ("Caffè Latte", 1), actions=["bill"]), status=201))["order"]
    await make(cloud, manager, "POST", "/pos/orders/%d/pay" % latte["id"], {"method": "card"})

    sales = await make(cloud, owner, "GET",
                       "/head-office/sales?date_from=2026-03-10&date_to=2026-03-11")
    by = {(row["branch"], row["date"]): row for row in sales["data"]}
    assert list(by) == [(D, "2026-03-10"), (A, "2026-03-10"), (D, "2026-03-11"),
                        (A, "2026-03-11")]
    quiet = dict(orders=0, gross=0, discounts=0, net=0, tax=0, charges=0, delivery_fees=0,
                 tips=0, total=0, payments={}, paid=0, cancelled=0, cancelled_total=0,
                 drafts=0)
    figures = lambda row: {name: row[name] for name in quiet}  # noqa: E731
    assert figures(by[D, "2026-03-10"]) == dict(
        orders=1, gross=26.6, discounts=4, net=22.6, tax=2.58, charges=1.5, delivery_fees=0,
        tips=2, total=28.68, payments={"card": 20, "cash": 8.68}, paid=28.68, cancelled=1,
        cancelled_total=10.5, drafts=1)
    assert figures(by[A, "2026-03-11"]) == dict(
        quiet, orders=1, gross=4.51, net=4.51, tax=0.51, charges=1.5, total=6.52,
        payments={"card": 6.52}, paid=6.52)
    assert figures(by[D, "2026-03-11"]) == figures(by[A, "2026-03-10"]) == quiet
    assert by[A, "2026-03-11"]["timezone"] == "Asia/Tokyo"
    assert figures(sales["totals"]) == dict(
        orders=2, gross=31.11, discounts=4, net=27.11, tax=3.09, charges=3, delivery_fees=0,
        tips=2, total=35.2, payments={"card": 26.52, "cash": 8.68}, paid=35.2,
        cancelled=1, cancelled_total=10.5, drafts=1)
    # Exact money on the wire: no float noise in the sums.
    text = (await cloud.fetch("GET", "/head-office/sales?date_from=2026-03-10"
                              "&date_to=2026-03-11", token=owner)).text
    assert '"total":35.2,' in text and not re.findall(r"\d\.\d{3,}", text)

    # Default: each branch's own today (Downtown the 10th, Airport the 11th).
    today = await make(cloud, owner, "GET", "/head-office/sales")
    assert [(r["branch"], r["date"], r["orders"]) for r in today["data"]] == [
        (D, "2026-03-10", 1), (A, "2026-03-11", 1)]
    # Payments and KOTs by each branch's local day too.
    paid = await make(cloud, owner, "GET", "/head-office/payments?date_from=2026-03-11"
                      "&date_to=2026-03-11")
    assert [(p["branch"], p["amount"]) for p in paid["data"]] == [(A, 6.52)]
    one = await make(cloud, owner, "GET", "/head-office/sales?branch_id=%d"
                     "&date_from=2026-03-09&date_to=2026-03-10" % demo["branches"][D])
    assert [(r["branch"], r["date"], r["paid"]) for r in one["data"]] == [
        (D, "2026-03-09", 0), (D, "2026-03-10", 28.68)]
    # A range the wrong way round, or too long, is a 422 on date_to.
    for query in ("date_from=2026-03-11&date_to=2026-03-10",
                  "date_from=2026-01-01&date_to=2026-06-01"):
        resp = await cloud.fetch("GET", "/head-office/sales?" + query, token=owner)
        assert resp.status == 422 and "date_to" in resp.body["errors"], resp


async def test_branch_staff_are_refused(start_node, demo):
    cloud = await start_node("cloud")
    edge = await start_node("edge", D)
    for server in (cloud, edge):
        for email in ("manager@demo.test", "waiter@demo.test", "chef@demo.test"):
            token = await server.login(email)
            for path in ROUTES:
                resp = await server.fetch("GET", path, token=token)
                assert resp.status == 403, (server.node.role, email, path, resp)
                assert resp.body["success"] is False
                assert "every branch" in resp.body["message"], resp
        # ...and the owner is let in.
        owner = await server.login("owner@demo.test")
        for path in ROUTES:
            assert (await server.fetch("GET", path, token=owner)).status == 200, path


async def test_a_head_office_role_is_let_in_by_its_permission(start_node, demo):
    """Not only owners: a role head office grants "View Head Office" reads too."""
    cloud = await start_node("cloud")

    def grant():
        restaurant = demo["restaurant_id"]
        role = models.Role.create(restaurant=restaurant, name="area", display_name="Area")
        permission = models.Permission.create(name="View Head Office", module="Report")
        models.RolePermission.create(role=role, permission=permission)
        user = models.User.get(models.User.email == "manager@demo.test")
        models.UserRole.delete().where(models.UserRole.user == user).execute()
        models.UserRole.create(user=user, role=role)
    cloud.node.store.call(grant)
    token = await cloud.login("manager@demo.test")
    states = await make(cloud, token, "GET", "/head-office/branches")
    assert [b["name"] for b in states["data"]] == [D, A]


async def test_another_restaurants_data_never_appears(start_node, demo):
    clock = FakeClock(SHIFT.timestamp())
    cloud = await start_node("cloud", clock=clock)
    elsewhere = cloud.node.store.call(other_restaurant, cloud.node.clock.now())
    owner = await cloud.login("owner@demo.test")
    await make(cloud, owner, "POST", "/pos/orders", order_body(demo, D, ("Espresso", 1)),
               status=201)
    listing = await make(cloud, owner, "GET", "/head-office/orders")
    assert [o["branch"] for o in listing["data"]] == [D]
    states = await make(cloud, owner, "GET", "/head-office/branches")
    assert [b["name"] for b in states["data"]] == [D, A]
    sales = await make(cloud, owner, "GET", "/head-office/sales")
    assert {r["branch"] for r in sales["data"]} == {D, A}
    assert sales["totals"]["orders"] == 0 and sales["totals"]["drafts"] == 1
    for path in ROUTES:
        resp = await cloud.fetch("GET", path + "?branch_id=%d" % elsewhere["branch"],
                                 token=owner)
        assert resp.status == 422 and "branch_id" in resp.body["errors"], (path, resp)
    # Their owner sees their own restaurant only.
    theirs = await cloud.login("owner@elsewhere.test", "elsewhere123")
    listing = await make(cloud, theirs, "GET", "/head-office/orders")
    assert [(o["id"], o["branch"]) for o in listing["data"]] == [(elsewhere["order"],
                                                                  "Elsewhere")]
    states = await make(cloud, theirs, "GET", "/head-office/branches")
    assert [b["name"] for b in states["data"]] == ["Elsewhere"]


async def test_at_an_edge_head_office_reads_answer_for_its_own_branch(start_node, demo):
    edge = await start_node("edge", D)
    owner = await edge.login("owner@demo.test")
    await make(edge, owner, "POST", "/pos/orders", order_body(demo, D, ("Espresso", 1),
                                                              actions=["kot"]), status=201)
    listing = await make(edge, owner, "GET", "/head-office/orders")
    assert [o["branch"] for o in listing["data"]] == [D]
    resp = await edge.fetch("GET", "/head-office/orders?branch_id=%d" % demo["branches"][A],
                            token=owner)
    assert resp.status == 403 and "ask the cloud for Airport" in resp.body["message"], resp
    states = await make(edge, owner, "GET", "/head-office/branches")
    [own] = states["data"]
    assert own["name"] == D and own["sync"]["served_by"] == "edge"
    assert own["sync"]["online"] is False and "not enrolled" in own["sync"]["message"]
    assert own["sync"]["outbox_depth"] >= 1      # the order, never sent anywhere


async def test_head_office_answers_an_owner_as_documented(start_node, demo):
    """The schema fuzzer (tests/test_fuzzing.py) over head office's operations with an
    owner's token, whose reads answer 200 (the general run's manager gets 403)."""
    tally = Tally()
    for node in (await start_node("edge", D), await start_node("cloud")):
        token = await node.login("owner@demo.test")
        # a row of each kind today, so that the answers' rows are checked too
        made = await make(node, token, "POST", "/pos/orders", order_body(
            demo, D, ("Espresso", 2), actions=["kot"]), status=201)
        await make(node, token, "POST", "/pos/orders/%d/split-payments" % made["order"]["id"],
                   {"amount": 1, "payment_method": "card"})
        later = node.node.clock.now() + datetime.timedelta(hours=1)
        await make(node, token, "POST", "/pos/reservations", {
            "table_id": demo["tables"][D]["T3"], "party_size": 2,
            "reservation_date_time": later.isoformat() + "Z"}, status=201)
        await asyncio.to_thread(fuzz, node.url, token, tally, under=PREFIX + "/head-office/")
    assert tally.operations == 2 * len(ROUTES) and tally.cases > 0
    assert not tally.failures, "\n".join(tally.examples.values())
