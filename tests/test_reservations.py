"""Reservations over HTTP: booking in the branch's local time, one party per table per
sitting, seats, statuses in any case and the moves between them, the floor showing a
table reserved around its time, checking in, today's list, events and notifications."""

import datetime

import pytest

from protocol import models
from protocol.clock import FakeClock

D, A = "Downtown", "Airport"
UTC = datetime.timezone.utc
# 2026-05-28 14:00 UTC: 10:00 in New York (EDT, UTC-4), where the demo's branches are.
T0 = datetime.datetime(2026, 5, 28, 14, 0, tzinfo=UTC).timestamp()
TODAY_KEYS = {"id", "table_code", "time", "datetime", "date", "party_size", "status", "name",
              "phone", "table_id"}
STATUSES = ["Pending", "Confirmed", "Checked_In", "Cancelled", "No_Show"]


@pytest.fixture
async def edge(start_node):
    return await start_node("edge", D, clock=FakeClock(start=T0))




async def reserve(server, token, table_id, when, party_size=2, **extra):
    return await server.fetch("POST", "/pos/reservations", {
        "table_id": table_id, "reservation_date_time": when, "party_size": party_size,
        **extra}, token=token)


async def booked(server, token, table_id, when, party_size=2, **extra):
    resp = await reserve(server, token, table_id, when, party_size, **extra)
    assert resp.status == 201, resp
    return resp.body


async def set_status(server, token, reservation_id, status):
    return await server.fetch("POST", "/pos/reservations/%d/status" % reservation_id,
                              {"status": status}, token=token)


async def table_row(server, token, table_id):
    resp = await server.fetch("GET", "/pos/tables", token=token)
    assert resp.status == 200, resp
    return next(t for t in resp.body["tables"] if t["id"] == table_id), resp.body["summary"]


async def test_a_reservation_is_booked_in_local_time_and_answered_whole(edge, waiter, demo):
    t3 = demo["tables"][D]["T3"]
    body = await booked(edge, waiter, t3, "2026-05-28 19:00:00", 4, name="Ada Lovelace",
                        phone="+12125550111", email="ada@example.com",
                        special_requests="Window seat")
    assert TODAY_KEYS <= set(body) and "success" not in body
    assert body["table_id"] == t3 and body["table_code"] == "T3"
    assert body["table"]["seating_capacity"] == 4
    assert body["status"] == "Pending" and body["slot_type"] == "Dinner"
    assert body["reservation_date_time"] == "2026-05-28T23:00:00Z"     # stored UTC
    assert (body["datetime"], body["date"], body["time"]) == (
        "2026-05-28 19:00:00", "2026-05-28", "07:00 PM")
    assert (body["party_size"], body["name"], body["phone"], body["email"],
            body["special_requests"]) == (4, "Ada Lovelace", "+12125550111",
                                          "ada@example.com", "Window seat")
    assert body["created_by"] == demo["users"]["waiter@demo.test"]

    # A time with an offset is that instant; the slot follows the local hour.
    lunch = await booked(edge, waiter, demo["tables"][D]["T4"], "2026-05-28T16:30:00Z")
    assert (lunch["time"], lunch["slot_type"]) == ("12:30 PM", "Lunch")
    breakfast = await booked(edge, waiter, demo["tables"][D]["T5"], "2026-05-29 08:15")
    assert (breakfast["time"], breakfast["slot_type"]) == ("08:15 AM", "Breakfast")
    chosen = await booked(edge, waiter, demo["tables"][D]["T6"], "2026-05-29 08:15",
                          slot_type="dinner")
    assert chosen["slot_type"] == "Dinner"


async def test_a_reservation_links_the_customer_it_names(edge, waiter, demo):
    body = await booked(edge, waiter, demo["tables"][D]["T3"], "2026-05-28 19:00",
                        name="Emily", email="EMILY.CARTER@example.com")
    assert body["customer_id"] == demo["customers"]["Emily Carter"]
    walk_in = await booked(edge, waiter, demo["tables"][D]["T4"], "2026-05-28 19:00")
    assert walk_in["customer_id"] is None and walk_in["name"] == ""


async def test_the_restaurants_default_status_applies(edge, waiter, demo):
    edge.node.store.call(lambda: models.Restaurant.update(
        default_reservation_status="confirmed").execute())
    body = await booked(edge, waiter, demo["tables"][D]["T3"], "2026-05-28 19:00")
    assert body["status"] == "Confirmed"


async def test_bad_input_is_a_422_on_its_field(edge, waiter, demo):
    t3 = demo["tables"][D]["T3"]
    resp = await edge.fetch("POST", "/pos/reservations", {}, token=waiter)
    assert resp.status == 422, resp
    assert set(resp.body["errors"]) == {"table_id", "reservation_date_time", "party_size"}
    assert resp.body["errors"]["table_id"] == ["The table id field is required."]
    for field, value in (("reservation_date_time", "tomorrow at 7"),
                         ("reservation_date_time", "1999-01-01 19:00:00"),
                         ("party_size", 0), ("party_size", "four"), ("email", "not-an-email"),
                         ("table_id", "T3")):
        body = {"table_id": t3, "reservation_date_time": "2026-05-28 19:00", "party_size": 2,
                field: value}
        resp = await edge.fetch("POST", "/pos/reservations", body, token=waiter)
        assert resp.status == 422, (field, value, resp)
        assert list(resp.body["errors"]) == [field], (field, value, resp)
    resp = await reserve(edge, waiter, t3, "2026-05-28 19:00", slot_type="Brunch")
    assert resp.status == 422, resp
    assert resp.body["allowed"] == ["Breakfast", "Lunch", "Dinner"]


async def test_a_party_larger_than_the_table_is_a_422(edge, waiter, demo):
    resp = await reserve(edge, waiter, demo["tables"][D]["T1"], "2026-05-28 19:00", 3)
    assert resp.status == 422, resp
    assert list(resp.body["errors"]) == ["party_size"]
    assert "T1 seats 2" in resp.body["errors"]["party_size"][0]
    assert (await reserve(edge, waiter, demo["tables"][D]["T1"], "2026-05-28 19:00", 2)
            ).status == 201


async def test_a_table_of_another_branch_or_none_is_a_422_on_table_id(edge, waiter, demo):
    for table_id in (demo["tables"][A]["T3"], 999999, 2 ** 63 - 1):
        resp = await reserve(edge, waiter, table_id, "2026-05-28 19:00")
        assert resp.status == 422, resp
        assert resp.body["errors"] == {"table_id": ["The selected table id is invalid."]}


async def test_a_second_booking_within_a_sitting_is_a_409(edge, waiter, demo):
    t3, t4 = demo["tables"][D]["T3"], demo["tables"][D]["T4"]
    first = await booked(edge, waiter, t3, "2026-05-28 19:00", name="Ada")
    for when in ("2026-05-28 19:00", "2026-05-28 20:59", "2026-05-28 17:01",
                 "2026-05-28T23:30:00Z"):
        resp = await reserve(edge, waiter, t3, when)
        assert resp.status == 409, (when, resp)
        assert resp.body["success"] is False
        assert "T3" in resp.body["message"] and "07:00 PM" in resp.body["message"]
        assert resp.body["reservation_id"] == first["id"]
    # Another table at the same time, and the same table a sitting (120 min) apart.
    assert (await reserve(edge, waiter, t4, "2026-05-28 19:00")).status == 201
    assert (await reserve(edge, waiter, t3, "2026-05-28 21:00")).status == 201
    assert (await reserve(edge, waiter, t3, "2026-05-28 17:00")).status == 201


async def test_cancelled_and_no_show_bookings_free_the_table(edge, waiter, demo):
    t3 = demo["tables"][D]["T3"]
    first = await booked(edge, waiter, t3, "2026-05-28 19:00")
    assert (await set_status(edge, waiter, first["id"], "cancelled")).status == 200
    second = await booked(edge, waiter, t3, "2026-05-28 19:30")
    assert (await reserve(edge, waiter, t3, "2026-05-28 20:00")).status == 409
    assert (await set_status(edge, waiter, second["id"], "no_show")).status == 200
    assert (await reserve(edge, waiter, t3, "2026-05-28 20:00")).status == 201


async def test_the_sitting_length_is_the_restaurants(edge, waiter, demo):
    edge.node.store.call(lambda: models.Restaurant.update(
        reservation_sitting_minutes=60).execute())
    t3 = demo["tables"][D]["T3"]
    await booked(edge, waiter, t3, "2026-05-28 19:00")
    assert (await reserve(edge, waiter, t3, "2026-05-28 19:59")).status == 409
    assert (await reserve(edge, waiter, t3, "2026-05-28 20:00")).status == 201


async def test_statuses_are_read_in_any_case_and_answered_canonical(edge, waiter, demo):
    first = await booked(edge, waiter, demo["tables"][D]["T3"], "2026-05-28 19:00")
    resp = await set_status(edge, waiter, first["id"], "CONFIRMED")
    assert resp.status == 200, resp
    assert resp.body["success"] is True and resp.body["message"]
    assert resp.body["reservation"]["status"] == "Confirmed"
    assert resp.body["reservation"]["id"] == first["id"]
    resp = await set_status(edge, waiter, first["id"], "checked in")
    assert resp.status == 200 and resp.body["reservation"]["status"] == "Checked_In", resp

    second = await booked(edge, waiter, demo["tables"][D]["T4"], "2026-05-28 19:00")
    resp = await set_status(edge, waiter, second["id"], "no-show")
    assert resp.body["reservation"]["status"] == "No_Show", resp
    third = await booked(edge, waiter, demo["tables"][D]["T5"], "2026-05-28 19:00")
    resp = await set_status(edge, waiter, third["id"], "Canceled")
    assert resp.body["reservation"]["status"] == "Cancelled", resp

    for bad in ("seated", "", "pending!!x"):
        resp = await set_status(edge, waiter, third["id"], bad)
        assert resp.status == 422, (bad, resp)
        assert resp.body["errors"] == {"status": ["The selected status is invalid."]}
        assert resp.body["allowed"] == STATUSES


@pytest.mark.parametrize("path, illegal", [
    (["Cancelled"], "checked_in"),
    (["No_Show"], "confirmed"),
    (["Checked_In"], "pending"),
    (["Checked_In"], "cancelled"),
    (["Confirmed", "Cancelled"], "pending"),
])
async def test_a_move_the_status_cannot_make_is_a_422(edge, waiter, demo, path, illegal):
    reservation = await booked(edge, waiter, demo["tables"][D]["T3"], "2026-05-28 19:00")
    for status in path:
        assert (await set_status(edge, waiter, reservation["id"], status)).status == 200
    resp = await set_status(edge, waiter, reservation["id"], illegal)
    assert resp.status == 422, resp
    assert resp.body["success"] is False
    current = path[-1].replace("_", " ").lower()
    assert "%s cannot become" % current in resp.body["message"]
    assert resp.body["current_status"] == path[-1] and resp.body["allowed"] == []
    listed = await edge.fetch("GET", "/pos/reservations", token=waiter)
    assert listed.body["data"][0]["status"] == path[-1]


async def test_legal_moves_and_the_same_status_again_succeed(edge, waiter, demo):
    reservation = await booked(edge, waiter, demo["tables"][D]["T3"], "2026-05-28 19:00")
    for status, expected in (("pending", "Pending"), ("confirmed", "Confirmed"),
                             ("pending", "Pending"), ("confirmed", "Confirmed"),
                             ("confirmed", "Confirmed"), ("checked_in", "Checked_In"),
                             ("Checked_In", "Checked_In")):
        resp = await set_status(edge, waiter, reservation["id"], status)
        assert resp.status == 200, (status, resp)
        assert resp.body["reservation"]["status"] == expected


async def test_a_reserved_table_shows_reserved_around_its_time(start_node, demo):
    clock = FakeClock(start=T0)
    edge = await start_node("edge", D, clock=clock)
    waiter = await edge.login("waiter@demo.test")
    t6 = demo["tables"][D]["T6"]
    await booked(edge, waiter, t6, "2026-05-28 12:00")        # 2 hours from 10:00
    row, summary = await table_row(edge, waiter, t6)
    assert row["available_status"] == "available" and summary["available"] == 12

    clock.advance(89 * 60)                                     # 11:29: 31 minutes before
    assert (await table_row(edge, waiter, t6))[0]["available_status"] == "available"
    clock.advance(60)                                          # 11:30: 30 minutes before
    row, summary = await table_row(edge, waiter, t6)
    assert row["available_status"] == "reserved" and row["is_running"] is False
    assert summary["available"] == 11
    available = await edge.fetch("GET", "/pos/tables?status=available", token=waiter)
    assert t6 not in [t["id"] for t in available.body["tables"]]

    clock.advance(150 * 60 - 60)                               # 13:59: still within the sitting
    assert (await table_row(edge, waiter, t6))[0]["available_status"] == "reserved"
    clock.advance(60)                                          # 14:00: the sitting is over
    assert (await table_row(edge, waiter, t6))[0]["available_status"] == "available"
    # Only shown: the table row itself never changed.
    stored = edge.node.store.call(lambda: models.Table.get_by_id(t6).available_status)
    assert stored == "available"


async def test_a_cancelled_booking_does_not_hold_the_floor(edge, waiter, demo):
    t6 = demo["tables"][D]["T6"]
    reservation = await booked(edge, waiter, t6, "2026-05-28 10:15")
    assert (await table_row(edge, waiter, t6))[0]["available_status"] == "reserved"
    await set_status(edge, waiter, reservation["id"], "Cancelled")
    assert (await table_row(edge, waiter, t6))[0]["available_status"] == "available"


async def test_checking_in_opens_the_table(edge, waiter, demo):
    t5 = demo["tables"][D]["T5"]
    reservation = await booked(edge, waiter, t5, "2026-05-28 10:10", 3)
    assert (await table_row(edge, waiter, t5))[0]["available_status"] == "reserved"
    resp = await set_status(edge, waiter, reservation["id"], "checked_in")
    assert resp.status == 200, resp
    row, summary = await table_row(edge, waiter, t5)
    assert row["available_status"] == "running" and row["is_running"] is True
    assert row["is_locked"] is False                # a lock belongs to a user's order
    assert summary["running"] == 1
    # The party orders on its table like any other.
    order = await edge.fetch("POST", "/pos/orders", {
        "order_type": "Dine In", "table_id": t5, "actions": ["kot"],
        "items": [{"id": demo["items"][D]["Garlic Bread"]}]}, token=waiter)
    assert order.status == 201, order


async def test_today_is_the_branchs_local_day(start_node, demo):
    # 2026-05-29 02:00 UTC is still 2026-05-28 (22:00) in New York.
    clock = FakeClock(start=datetime.datetime(2026, 5, 29, 2, 0, tzinfo=UTC).timestamp())
    edge = await start_node("edge", D, clock=clock)
    waiter = await edge.login("waiter@demo.test")
    tables = demo["tables"][D]
    late = await booked(edge, waiter, tables["T3"], "2026-05-28 23:30", 2, name="Late",
                        phone="2125550100")
    early = await booked(edge, waiter, tables["T4"], "2026-05-28 08:00", 3, name="Early")
    await booked(edge, waiter, tables["T5"], "2026-05-29 09:00", name="Tomorrow")
    await booked(edge, waiter, tables["T6"], "2026-05-27 23:30", name="Yesterday")
    resp = await edge.fetch("GET", "/pos/reservations/today", token=waiter)
    assert resp.status == 200, resp
    assert [r["id"] for r in resp.body] == [early["id"], late["id"]]
    assert all(TODAY_KEYS <= set(r) for r in resp.body)
    first, second = resp.body
    assert (first["time"], first["date"], first["datetime"]) == (
        "08:00 AM", "2026-05-28", "2026-05-28 08:00:00")
    assert {k: second[k] for k in TODAY_KEYS} == {
        "id": late["id"], "table_code": "T3", "time": "11:30 PM",
        "datetime": "2026-05-28 23:30:00", "date": "2026-05-28", "party_size": 2,
        "status": "Pending", "name": "Late", "phone": "2125550100", "table_id": tables["T3"]}


async def test_the_list_is_a_paginator_filtered_by_status_and_date(edge, waiter, demo):
    tables = demo["tables"][D]
    a = await booked(edge, waiter, tables["T3"], "2026-05-28 19:00")
    b = await booked(edge, waiter, tables["T4"], "2026-05-29 19:00")
    c = await booked(edge, waiter, tables["T5"], "2026-05-28 12:00")
    await set_status(edge, waiter, b["id"], "Cancelled")

    resp = await edge.fetch("GET", "/pos/reservations", token=waiter)
    assert resp.status == 200, resp
    page = resp.body
    assert {"current_page", "data", "first_page_url", "from", "last_page", "last_page_url",
            "links", "next_page_url", "path", "per_page", "prev_page_url", "to",
            "total"} <= set(page)
    assert page["total"] == 3 and page["current_page"] == 1 and page["per_page"] == 20
    assert [r["id"] for r in page["data"]] == [b["id"], a["id"], c["id"]]   # latest first
    assert page["data"][1]["table"]["table_code"] == "T3"

    cancelled = await edge.fetch("GET", "/pos/reservations?status=CANCELLED", token=waiter)
    assert [r["id"] for r in cancelled.body["data"]] == [b["id"]]
    assert cancelled.body["data"][0]["status"] == "Cancelled"
    day = await edge.fetch("GET", "/pos/reservations?date=2026-05-28", token=waiter)
    assert {r["id"] for r in day.body["data"]} == {a["id"], c["id"]}
    assert (await edge.fetch("GET", "/pos/reservations?page=2", token=waiter)
            ).body["data"] == []

    for query, field in (("status=seated", "status"), ("date=28/05/2026", "date"),
                         ("page=zero", "page"), ("page=0", "page"),
                         ("page=" + "9" * 30, "page")):
        resp = await edge.fetch("GET", "/pos/reservations?" + query, token=waiter)
        assert resp.status == 422, (query, resp)
        assert list(resp.body["errors"]) == [field]
    resp = await edge.fetch("GET", "/pos/reservations?status=seated", token=waiter)
    assert resp.body["allowed"] == STATUSES


async def test_bookings_and_changes_are_published_and_managers_notified(edge, waiter, demo):
    published = []
    edge.node.store.publish = published.extend
    branch = demo["branches"][D]
    reservation = await booked(edge, waiter, demo["tables"][D]["T3"], "2026-05-28 19:00", 4,
                               name="Ada")
    channel = "private-reservations.branch.%d" % branch
    created = [e for e in published if e.channel == channel]
    assert [e.name for e in created] == ["reservation.created"]
    assert created[0].data["id"] == reservation["id"]
    told = {e.channel for e in published if e.channel.startswith("private-App.Models.User.")}
    managers = {demo["users"][u] for u in ("owner@demo.test", "manager@demo.test")}
    assert told == {"private-App.Models.User.%d" % u for u in managers}

    manager = await edge.login("manager@demo.test")
    inbox = await edge.fetch("GET", "/pos/notifications", token=manager)
    assert inbox.status == 200, inbox
    [note] = inbox.body["data"]
    assert note["title"] == "New reservation" and "Ada" in note["body"]
    assert "T3" in note["body"] and note["data"]["data"]["reservation_id"] == reservation["id"]
    assert (await edge.fetch("GET", "/pos/notifications", token=waiter)).body["data"] == []

    published.clear()
    await set_status(edge, waiter, reservation["id"], "confirmed")
    assert [(e.channel, e.name, e.data["status"]) for e in published] == [
        (channel, "reservation.updated", "Confirmed")]
    published.clear()
    await set_status(edge, waiter, reservation["id"], "confirmed")     # no change: no event
    assert published == []
    await reserve(edge, waiter, demo["tables"][D]["T3"], "2026-05-28 19:00")   # 409
    assert published == []


async def test_another_branchs_reservation_is_not_found(cloud, demo):
    airport = await cloud.login("airport.manager@demo.test")
    theirs = await booked(cloud, airport, demo["tables"][A]["T3"], "2026-05-28 19:00")
    downtown = await cloud.login("waiter@demo.test")
    resp = await set_status(cloud, downtown, theirs["id"], "confirmed")
    assert resp.status == 404, resp
    assert resp.body == {"success": False, "message": "Reservation not found."}
    listed = await cloud.fetch("GET", "/pos/reservations", token=downtown)
    assert listed.body["total"] == 0
    assert (await set_status(cloud, airport, theirs["id"], "confirmed")).status == 200


async def test_only_floor_staff_take_reservations(edge, demo):
    chef = await edge.login("chef@demo.test")
    resp = await reserve(edge, chef, demo["tables"][D]["T3"], "2026-05-28 19:00")
    assert resp.status == 403, resp
    assert resp.body["success"] is False and "reservations" in resp.body["message"]
    assert (await edge.fetch("GET", "/pos/reservations/today", token=chef)).status == 200


async def test_idempotency_key_books_once(edge, waiter, demo):
    headers = {"Idempotency-Key": "booking-1"}
    body = {"table_id": demo["tables"][D]["T3"], "reservation_date_time": "2026-05-28 19:00",
            "party_size": 2}
    first = await edge.fetch("POST", "/pos/reservations", body, token=waiter, headers=headers)
    again = await edge.fetch("POST", "/pos/reservations", body, token=waiter, headers=headers)
    assert first.status == again.status == 201
    assert first.body == again.body
    assert (await edge.fetch("GET", "/pos/reservations", token=waiter)).body["total"] == 1


@pytest.mark.parametrize("method, path", [
    ("GET", "/pos/reservations/today"), ("GET", "/pos/reservations"),
    ("POST", "/pos/reservations"), ("POST", "/pos/reservations/1/status")])
async def test_reservations_need_a_token(edge, method, path):
    resp = await edge.fetch(method, path, {} if method == "POST" else None)
    assert resp.status == 401 and resp.body == {"message": "Unauthenticated."}
