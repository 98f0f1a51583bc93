"""Tables, their locks and areas over HTTP: the listing and its filters, who may
unlock, lock expiry on the injected clock, paying frees the table, branch scope."""

import datetime
import time
import zoneinfo

import pytest

from protocol.clock import FakeClock

D = "Downtown"
ROW_KEYS = {"id", "table_code", "status", "available_status", "area_id", "area_name",
            "seating_capacity", "is_locked", "is_locked_by_current_user",
            "is_locked_by_other_user", "locked_by_user_id", "locked_by_user_name", "locked_at",
            "is_running", "active_order_id", "current_order_id", "order_id", "order_total",
            "amount_due", "active_order", "branch_id", "hash", "created_at", "updated_at"}




@pytest.fixture
async def waiter2(edge):
    return await edge.login("waiter2@demo.test")


async def kot_order(edge, token, demo, table_code):
    """A waiter's dine-in order sent to the kitchen on a Downtown table."""
    return await edge.fetch("POST", "/pos/orders", {
        "order_type": "Dine In", "table_id": demo["tables"][D][table_code],
        "items": [{"id": demo["items"][D]["Garlic Bread"], "quantity": 1}],
        "actions": ["kot"]}, token=token)


async def listing(edge, token, status=None):
    resp = await edge.fetch("GET", "/pos/tables" + ("?status=" + status if status else ""),
                            token=token)
    assert resp.status == 200, resp
    return resp.body


async def row(edge, token, table_id):
    return next(t for t in (await listing(edge, token))["tables"] if t["id"] == table_id)


async def test_fresh_floor_lists_every_table_available(edge, waiter, demo):
    body = await listing(edge, waiter)
    assert body["is_admin"] is False
    assert body["summary"] == {"total": 12, "running": 0, "available": 12,
                               "locked_by_me": 0, "locked_by_other": 0}
    tables = body["tables"]
    assert len(tables) == 12
    assert {t["table_code"] for t in tables} == set(demo["tables"][D])
    assert {t["area_name"] for t in tables} == {"Main Hall", "Terrace"}
    assert all(set(t) == ROW_KEYS for t in tables)
    t3 = next(t for t in tables if t["table_code"] == "T3")
    assert t3.pop("hash") and t3.pop("created_at") and t3.pop("updated_at")
    assert t3 == {
        "id": demo["tables"][D]["T3"], "table_code": "T3", "status": "active",
        "available_status": "available", "area_id": demo["areas"][D]["Main Hall"],
        "area_name": "Main Hall", "seating_capacity": 4, "is_locked": False,
        "is_locked_by_current_user": False, "is_locked_by_other_user": False,
        "locked_by_user_id": None, "locked_by_user_name": None, "locked_at": None,
        "is_running": False, "active_order_id": None, "current_order_id": None,
        "order_id": None, "order_total": None, "amount_due": None, "active_order": None,
        "branch_id": demo["branches"][D]}
    manager = await edge.login("manager@demo.test")
    assert (await listing(edge, manager))["is_admin"] is True


async def test_unknown_status_filter_is_a_422_with_the_allowed_list(edge, waiter):
    resp = await edge.fetch("GET", "/pos/tables?status=free", token=waiter)
    assert resp.status == 422, resp
    assert resp.body["errors"] == {"status": ["The selected status is invalid."]}
    assert resp.body["allowed"] == ["all", "available", "running", "locked", "locked_by_me",
                                    "locked_by_other"]


async def test_kot_order_runs_and_locks_the_table_for_its_waiter(edge, waiter, waiter2, demo):
    order = await kot_order(edge, waiter, demo, "T1")
    assert order.status == 201, order
    t1 = demo["tables"][D]["T1"]
    mine = await row(edge, waiter, t1)
    assert mine["available_status"] == "running" and mine["is_running"] is True
    assert mine["is_locked"] is True and mine["is_locked_by_current_user"] is True
    assert mine["is_locked_by_other_user"] is False
    assert mine["locked_by_user_id"] == demo["users"]["waiter@demo.test"]
    assert mine["locked_by_user_name"]
    assert len(mine["locked_at"]) == 5 and mine["locked_at"][2] == ":"
    assert mine["active_order_id"] == order.body["order"]["id"]
    theirs = await row(edge, waiter2, t1)
    assert theirs["is_locked_by_current_user"] is False
    assert theirs["is_locked_by_other_user"] is True

    codes = {}
    for status in ("all", "available", "running", "locked", "locked_by_me", "locked_by_other"):
        codes[status] = [t["table_code"] for t in (await listing(edge, waiter, status))["tables"]]
    assert len(codes["all"]) == 12
    assert len(codes["available"]) == 11 and "T1" not in codes["available"]
    assert codes["running"] == codes["locked"] == codes["locked_by_me"] == ["T1"]
    assert codes["locked_by_other"] == []
    other_view = await listing(edge, waiter2, "locked_by_other")
    assert [t["table_code"] for t in other_view["tables"]] == ["T1"]
    assert (await listing(edge, waiter2, "locked_by_me"))["tables"] == []
    assert other_view["summary"] == {"total": 12, "running": 1, "available": 11,
                                     "locked_by_me": 0, "locked_by_other": 1}


async def test_only_the_holder_or_a_manager_unlocks(edge, waiter, waiter2, demo):
    assert (await kot_order(edge, waiter, demo, "T1")).status == 201
    assert (await kot_order(edge, waiter, demo, "T2")).status == 201
    t1, t2 = demo["tables"][D]["T1"], demo["tables"][D]["T2"]

    refused = await edge.fetch("POST", "/pos/tables/%d/unlock" % t1, token=waiter2)
    assert refused.status == 403, refused
    assert refused.body["success"] is False and "T1" in refused.body["message"]
    assert (await row(edge, waiter, t1))["is_locked"] is True

    manager = await edge.login("manager@demo.test")
    done = await edge.fetch("POST", "/pos/tables/%d/unlock" % t1, token=manager)
    assert done.status == 200, done
    assert done.body["success"] is True and done.body["message"]
    freed = await row(edge, waiter, t1)
    assert freed["is_locked"] is False and freed["locked_by_user_id"] is None
    # Unlocking is not closing: the order is still open on the table.
    assert freed["is_running"] is True and freed["active_order_id"] is not None

    own = await edge.fetch("POST", "/pos/tables/%d/unlock" % t2, token=waiter)
    assert own.status == 200 and own.body["success"] is True
    assert (await row(edge, waiter, t2))["is_locked"] is False


async def test_another_waiters_order_on_a_locked_table_is_refused(edge, waiter, waiter2, demo):
    assert (await kot_order(edge, waiter, demo, "T4")).status == 201
    resp = await kot_order(edge, waiter2, demo, "T4")
    assert resp.status == 403, resp
    assert resp.body["success"] is False and "T4" in resp.body["message"]
    assert (await row(edge, waiter, demo["tables"][D]["T4"]))["is_locked_by_current_user"]


async def test_a_lock_expires_after_the_restaurants_timeout(start_node, demo):
    # Tokens are issued on the node's clock but verified on the wall clock, so the
    # fake clock starts now for them to stay valid.
    clock = FakeClock(start=time.time())
    edge = await start_node("edge", clock=clock)
    waiter = await edge.login("waiter@demo.test")
    waiter2 = await edge.login("waiter2@demo.test")
    order = await kot_order(edge, waiter, demo, "T1")
    assert order.status == 201, order
    t1 = demo["tables"][D]["T1"]
    local = (clock.now().replace(tzinfo=datetime.timezone.utc)
             .astimezone(zoneinfo.ZoneInfo("America/New_York")))
    assert (await row(edge, waiter, t1))["locked_at"] == local.strftime("%H:%M")

    clock.advance(9 * 60)
    assert (await row(edge, waiter2, t1))["is_locked_by_other_user"] is True
    assert (await kot_order(edge, waiter2, demo, "T1")).status == 403

    clock.advance(61)                       # past table_lock_timeout_minutes (10)
    for token in (waiter, waiter2):
        shown = await row(edge, token, t1)
        assert shown["is_locked"] is False and shown["locked_by_user_id"] is None
        assert shown["is_running"] is True
        assert shown["active_order_id"] == order.body["order"]["id"]
    summary = (await listing(edge, waiter2))["summary"]
    assert summary["locked_by_me"] == summary["locked_by_other"] == 0
    # No lock stands in the way any more; only the open order does.
    resp = await kot_order(edge, waiter2, demo, "T1")
    assert resp.status == 409, resp
    assert "T1" in resp.body["message"] and "open order" in resp.body["message"]
    assert resp.body["order_id"] == order.body["order"]["id"]


async def test_paying_the_order_frees_the_table(edge, waiter, demo):
    order = await kot_order(edge, waiter, demo, "P1")
    assert order.status == 201, order
    paid = await edge.fetch("POST", "/pos/orders/%d/pay" % order.body["order"]["id"],
                            {"method": "card"}, token=waiter)
    assert paid.status == 200 and paid.body["status"] == "paid", paid
    shown = await row(edge, waiter, demo["tables"][D]["P1"])
    assert shown["available_status"] == "available" and shown["is_running"] is False
    assert shown["is_locked"] is False and shown["active_order_id"] is None
    assert (await listing(edge, waiter))["summary"]["available"] == 12


async def test_areas_list_the_branchs_areas_with_table_counts(edge, waiter, demo):
    resp = await edge.fetch("GET", "/areas", token=waiter)
    assert resp.status == 200, resp
    assert resp.body == [
        {"id": demo["areas"][D]["Main Hall"], "area_name": "Main Hall", "tables_count": 8},
        {"id": demo["areas"][D]["Terrace"], "area_name": "Terrace", "tables_count": 4}]


async def test_unlocking_a_table_of_another_branch_or_none_is_a_404(edge, waiter, demo):
    airport = demo["tables"]["Airport"]["T1"]
    for table_id in (airport, 999999, 10 ** 30):
        resp = await edge.fetch("POST", "/pos/tables/%d/unlock" % table_id, token=waiter)
        assert resp.status == 404, resp
        assert resp.body["success"] is False and "not found" in resp.body["message"].lower()
