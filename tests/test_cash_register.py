"""The cash drawer, driven as a till drives it (/pos/cash-register, MODULE-ROUTES.md §3)."""

import asyncio

from protocol import models
from sync.models import DeadLetter
from test_orders import order_of
from test_permissions import CASHIER, add_cashier
from test_sync import count, enrolled, eventually  # noqa: F401  (enrolled is a fixture)

D = "Downtown"
CASH = "/pos/cash-register"


async def tills(edge, demo):
    """(cashier token, manager token) at the Downtown edge."""
    add_cashier(edge, demo)
    return await edge.login(CASHIER), await edge.login("manager@demo.test")


async def new_register(edge, manager, name="Till 1"):
    made = await edge.fetch("POST", CASH + "/registers", {"name": name}, token=manager)
    assert made.status == 201, made
    return made.body["data"]["id"]


async def open_on(edge, token, register_id, opening_float=100):
    return await edge.fetch("POST", CASH + "/sessions/open",
                            {"cash_register_id": register_id, "opening_float": opening_float},
                            token=token)


async def pickup(edge, token, demo, quantity):
    made = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "actions": ["kot"],
        "items": [{"id": demo["items"][D]["Grilled Salmon"], "quantity": quantity}]},
        token=token)
    assert made.status == 201, made
    return made.body["order"]


async def pay(edge, token, order, method, amount=None):
    body = {"method": method} if amount is None else {"method": method, "amount": amount}
    paid = await edge.fetch("POST", "/pos/orders/%d/pay" % order["id"], body, token=token)
    assert paid.status == 200, paid
    return paid.body


async def test_a_cash_shift_adds_up_to_hand_computed_figures(edge, demo):
    cashier, manager = await tills(edge, demo)
    register = await new_register(edge, manager)
    notes = {}
    for name, value, kind in (("Fifty", 50, "note"), ("Twenty", 20, "note"),
                              ("Five", 5, "note"), ("One", 1, "coin"), ("Ten cents", 0.10, "coin")):
        made = await edge.fetch("POST", CASH + "/denominations",
                                {"name": name, "value": value, "type": kind}, token=manager)
        assert made.status == 201, made
        notes[name] = made.body["data"]["id"]

    opened = await open_on(edge, cashier, register, 100)
    assert opened.status == 201, opened
    session = opened.body["data"]
    assert session["opening_float"] == 100 and session["status"] == "open"

    # Three cash sales: 120.00 of a bigger bill, 95.50 of another, and a 26.70 bill paid
    # with 50.00 (23.30 change goes back; only 26.70 stays in the drawer).
    a, b = await pickup(edge, cashier, demo, 6), await pickup(edge, cashier, demo, 6)
    assert a["total"] > 120 and b["total"] > 95.5
    await pay(edge, cashier, a, "cash", 120)
    await pay(edge, cashier, b, "cash", 95.5)
    c = await order_of(edge, cashier, demo)
    assert c["total"] == 26.7
    paid_c = await pay(edge, cashier, c, "cash", 50)
    assert paid_c["amount"] == 26.7 and paid_c["change_given"] == 23.3
    # A card sale: not the drawer's.
    await pay(edge, cashier, await pickup(edge, cashier, demo, 1), "card")
    # A cash refund: the cashier cancels order b, giving its 95.50 back.
    refund = await edge.fetch("POST", "/pos/orders/%d/status" % b["id"],
                              {"status": "cancelled"}, token=cashier)
    assert refund.status == 200, refund
    for kind, amount in (("cash-in", 50), ("cash-out", 20), ("safe-drop", 200)):
        moved = await edge.fetch("POST", CASH + "/transactions/" + kind,
                                 {"amount": amount, "reason": kind}, token=cashier)
        assert moved.status == 201, moved
        assert moved.body["data"]["session_id"] == session["id"]

    # By hand: 100 float + (120.00 + 95.50 + 26.70 = 242.20) cash sales + 50 in - 20 out
    # - 200 safe drop - 95.50 refund = 76.70. (The module would say 176.70: the float twice.)
    summary = (await edge.fetch("GET", CASH + "/sessions/%d/summary" % session["id"],
                                token=cashier)).body["data"]
    assert summary["totals"] == {"opening_float": 100, "cash_sales": 242.2, "cash_in": 50,
                                 "cash_out": 20, "safe_drops": 200, "refunds": 95.5,
                                 "running_total": 76.7}
    assert summary["expected_cash"] == 76.7
    # opening float, 3 sales, 1 refund, cash in, cash out, safe drop
    assert summary["transactions_count"] == 8
    listed = (await edge.fetch("GET", CASH + "/sessions/%d/transactions" % session["id"],
                               token=cashier)).body["data"]
    assert listed[0]["type"] == "safe_drop" and listed[0]["running_amount"] == 76.7
    assert sorted(t["type"] for t in listed).count("cash_sale") == 3

    # The count: 50 + 20 + 5 + 1 + 2 x 0.10 = 76.20, which the till must also say.
    counts = [{"denomination_id": notes["Fifty"], "count": 1},
              {"denomination_id": notes["Twenty"], "count": 1},
              {"denomination_id": notes["Five"], "count": 1},
              {"denomination_id": notes["One"], "count": 1},
              {"denomination_id": notes["Ten cents"], "count": 2}]
    close = CASH + "/sessions/%d/close" % session["id"]
    disagree = await edge.fetch("POST", close, {"counted_cash": 76.7, "expected_cash": 76.2,
                                                "denomination_counts": counts}, token=cashier)
    assert disagree.status == 422 and "counted_cash" in disagree.body["errors"], disagree
    closed = await edge.fetch("POST", close, {"counted_cash": 76.2, "expected_cash": 1000,
                                              "denomination_counts": counts,
                                              "closing_note": "short 50c"}, token=cashier)
    assert closed.status == 200, closed
    # The client's expected_cash is ignored; 0.50 short.
    assert (closed.body["data"]["expected_cash"], closed.body["data"]["counted_cash"],
            closed.body["data"]["discrepancy"]) == (76.7, 76.2, -0.5)
    again = await edge.fetch("POST", close, {"counted_cash": 76.2}, token=cashier)
    assert again.status == 404

    day = (await edge.fetch("GET", CASH + "/reports/daily", token=manager)).body["data"]
    assert day["totals"]["sessions"] == 1 and day["totals"]["cash_sales"] == 242.2
    assert (day["totals"]["counted_cash"], day["totals"]["discrepancy"]) == (76.2, -0.5)
    assert edge.node.store.call(lambda: models.CashRegisterCount.select().count()) == 5


async def test_two_tills_racing_for_one_register_one_wins(edge, demo):
    cashier, manager = await tills(edge, demo)
    register = await new_register(edge, manager)
    first, second = await asyncio.gather(open_on(edge, cashier, register),
                                         open_on(edge, manager, register))
    assert sorted([first.status, second.status]) == [201, 409], (first, second)
    loser = first if first.status == 409 else second
    assert loser.body == {"success": False,
                          "message": "This register already has an active session"}
    # One user, two registers at once: one session.
    other = await new_register(edge, manager, "Till 2")
    third = await new_register(edge, manager, "Till 3")
    winner_token = cashier if first.status == 201 else manager
    racing = await asyncio.gather(open_on(edge, winner_token, other),
                                  open_on(edge, winner_token, third))
    assert [r.status for r in racing] == [409, 409]
    assert racing[0].body["message"] == "You already have an active session"
    assert edge.node.store.call(lambda: models.CashRegisterSession.select().count()) == 1


async def test_who_may_run_the_drawer(edge, demo, waiter):
    cashier, manager = await tills(edge, demo)
    register = await new_register(edge, manager)
    refused = await open_on(edge, waiter, register)
    assert refused.status == 403 and refused.body["success"] is False, refused
    assert refused.body["message"] == "Your role may not open a cash drawer."
    assert (await edge.fetch("GET", CASH + "/sessions", token=waiter)).status == 403
    made = await edge.fetch("POST", CASH + "/registers", {"name": "Mine"}, token=cashier)
    assert made.status == 403
    # The cashier runs their own drawer; closing someone else's is for a manager.
    session = (await open_on(edge, cashier, register)).body["data"]
    drop = await edge.fetch("POST", CASH + "/transactions/safe-drop", {"amount": 50},
                            token=cashier)
    assert drop.status == 201
    busy = await edge.fetch("DELETE", CASH + "/registers/%d" % register, token=manager)
    assert busy.status == 409
    second = await new_register(edge, manager, "Till 2")
    managers = (await open_on(edge, manager, second, 0)).body["data"]
    close = CASH + "/sessions/%d/close"
    assert (await edge.fetch("POST", close % managers["id"], {"counted_cash": 0},
                             token=cashier)).status == 403
    by_manager = await edge.fetch("POST", close % session["id"], {"counted_cash": 50},
                                  token=manager)
    assert by_manager.status == 200 and by_manager.body["data"]["discrepancy"] == 0
    gone = await edge.fetch("DELETE", CASH + "/registers/%d" % register, token=manager)
    assert gone.status == 200
    inactive = await open_on(edge, cashier, register)
    assert inactive.status == 404


async def test_bad_input_is_422_with_field_errors(edge, demo):
    cashier, manager = await tills(edge, demo)
    bad_open = await edge.fetch("POST", CASH + "/sessions/open",
                                {"cash_register_id": "till", "opening_float": -5},
                                token=cashier)
    assert bad_open.status == 422
    assert set(bad_open.body["errors"]) == {"cash_register_id", "opening_float"}
    register = await new_register(edge, manager)
    session = (await open_on(edge, cashier, register)).body["data"]
    for amount in (0, "lots", 1e12):
        bad = await edge.fetch("POST", CASH + "/transactions/cash-in", {"amount": amount},
                               token=cashier)
        assert bad.status == 422 and "amount" in bad.body["errors"], bad
    bad_close = await edge.fetch("POST", CASH + "/sessions/%d/close" % session["id"], {
        "denomination_counts": [{"denomination_id": 1, "count": -1}]}, token=cashier)
    assert bad_close.status == 422
    assert "denomination_counts.0.count" in bad_close.body["errors"]
    nothing = await edge.fetch("POST", CASH + "/sessions/%d/close" % session["id"], {},
                               token=cashier)
    assert nothing.status == 422 and "counted_cash" in nothing.body["errors"]
    unknown = await edge.fetch("POST", CASH + "/sessions/%d/close" % session["id"], {
        "denomination_counts": [{"denomination_id": 12345, "count": 1}]}, token=cashier)
    assert unknown.status == 422
    bad_note = await edge.fetch("POST", CASH + "/denominations",
                                {"name": "", "value": 0, "type": "cheque"}, token=manager)
    assert bad_note.status == 422 and set(bad_note.body["errors"]) == {"name", "value", "type"}


async def test_a_closed_session_reaches_the_cloud(enrolled, demo):
    cloud, edge = enrolled
    manager = await edge.login("manager@demo.test")     # a user the cloud knows too
    register = await new_register(edge, manager)
    session = (await open_on(edge, manager, register, 40)).body["data"]
    await edge.fetch("POST", CASH + "/transactions/cash-in", {"amount": 10}, token=manager)
    closed = await edge.fetch("POST", CASH + "/sessions/%d/close" % session["id"],
                              {"counted_cash": 50}, token=manager)
    assert closed.status == 200, closed
    owner = await cloud.login("owner@demo.test")

    async def at_cloud():
        resp = await cloud.fetch("GET", CASH + "/sessions/%d/summary" % session["id"],
                                 token=owner)
        return resp.body["data"] if resp.status == 200 and resp.body["data"][
            "session"]["status"] == "closed" else None
    shown = await eventually(at_cloud, timeout=3.0)
    assert shown["expected_cash"] == 50 and shown["discrepancy"] == 0
    assert shown["totals"]["cash_in"] == 10
    assert count(cloud, models.CashRegisterTransaction) == 2    # the float and the cash-in
    assert count(edge, DeadLetter) == count(cloud, DeadLetter) == 0
