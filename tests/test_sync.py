"""Sync between a real cloud and real enrolled edges over HTTP (in one process)."""

import argparse
import asyncio
import datetime
import json
import os
import shutil
import sqlite3
import time

import pytest

from edge import cli
from protocol import models
from protocol.clock import Clock
from protocol.errors import APIError
from sync import apply, auth, enrollment, ingest, rows, state
from sync.models import ChangeLog, DeadLetter, SyncNode
from sync.presence import Presence
from test_realtime import socket_for

D = "Downtown"


async def eventually(check, timeout=5.0, interval=0.05):
    """Wait until check() (sync or async) is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("not within %.1f s" % timeout)
        await asyncio.sleep(interval)


async def listening(cloud, edge):
    """Wait until the edge keeps a pull open at the cloud (it takes commands now)."""
    await eventually(lambda: cloud.node.authority.presence.pulling(edge.node.node_id), 5.0)


def new_code(cloud, branch_id, **kwargs):
    return cloud.node.store.call(enrollment.create_code, branch_id, Clock().now(), **kwargs)


async def enroll_box(cloud, tmp_path, name, code, force=False):
    args = argparse.Namespace(cloud_url=cloud.url, code=code, data_dir=str(tmp_path / name),
                              name=name, force=force)
    await asyncio.to_thread(cli.enroll, args)


@pytest.fixture
async def enrolled(start_node, tmp_path, demo):
    """A cloud and the Downtown edge enrolled with it and syncing."""
    cloud = await start_node("cloud")
    await enroll_box(cloud, tmp_path, "box", new_code(cloud, demo["branches"][D]))
    edge = await start_node("edge", name="box", sync=True)
    return cloud, edge


def count(server, model, *where):
    return server.node.store.call(lambda: model.select().where(*where).count()
                                  if where else model.select().count())


async def test_enrollment_gives_the_box_its_branch(enrolled, demo):
    cloud, edge = enrolled
    assert edge.node.node_id >= 2 and edge.node.branch_id == demo["branches"][D]
    # The snapshot holds the branch's catalog and staff, and not the other branch's.
    items = count(edge, models.MenuItem)
    assert items == count(cloud, models.MenuItem,
                          models.MenuItem.branch == demo["branches"][D]) == 40
    assert count(edge, models.Order, models.Order.branch == demo["branches"]["Airport"]) == 0
    # Logins work on the box, and a token from the cloud works there too.
    assert await edge.login("waiter@demo.test")
    cloud_token = await cloud.login("waiter@demo.test")
    assert (await edge.fetch("GET", "/auth/me", token=cloud_token)).status == 200
    # ...and the box's tokens at the cloud.
    edge_token = await edge.login("waiter@demo.test")
    assert (await cloud.fetch("GET", "/auth/me", token=edge_token)).status == 200


async def test_a_code_works_once_and_only_before_it_expires(start_node, tmp_path, demo):
    cloud = await start_node("cloud")
    code = new_code(cloud, demo["branches"][D])
    await enroll_box(cloud, tmp_path, "first", code)
    with pytest.raises(cli.CommandError, match="already been used"):
        await enroll_box(cloud, tmp_path, "second", code)
    with pytest.raises(cli.CommandError, match="not valid"):
        await enroll_box(cloud, tmp_path, "third", "AAAA-BBBB-CCCC")
    expired = new_code(cloud, demo["branches"][D], ttl_minutes=-1)
    with pytest.raises(cli.CommandError, match="expired"):
        await enroll_box(cloud, tmp_path, "fourth", expired)


async def test_an_order_taken_at_the_edge_reaches_the_cloud(enrolled, demo):
    cloud, edge = enrolled
    waiter = await edge.login("waiter@demo.test")
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "Dine In", "table_id": demo["tables"][D]["T3"], "actions": ["kot"],
        "items": [{"id": demo["items"][D]["Grilled Salmon"], "quantity": 2}]}, token=waiter)
    assert created.status == 201, created
    order = created.body["order"]
    paid = await edge.fetch("POST", "/pos/orders/%d/pay" % order["id"], {"method": "card"},
                            token=waiter)
    assert paid.status == 200

    owner = await cloud.login("owner@demo.test")

    async def at_cloud():
        resp = await cloud.fetch("GET", "/pos/orders/%d" % order["id"], token=owner)
        return resp.body if resp.status == 200 and resp.body["status"] == "paid" else None
    shown = await eventually(at_cloud, timeout=5.0)   # bench_sync times it
    assert shown["total"] == order["total"] and shown["amount_paid"] == order["total"]
    assert len(shown["items"]) == 1 and shown["items"][0]["quantity"] == 2
    assert count(cloud, models.Payment) == 1 and count(cloud, models.Kot) == 1
    listing = await cloud.fetch("GET", "/pos/orders", token=owner)
    assert [o["id"] for o in listing.body["data"]] == [order["id"]]


async def test_a_head_office_price_change_reaches_the_edge(enrolled, demo):
    cloud, edge = enrolled
    salmon = demo["items"][D]["Grilled Salmon"]

    def raise_price():
        models.MenuItemPrice.update(final_price=25).where(
            models.MenuItemPrice.menu_item == salmon).execute()
        models.MenuItem.update(price=25).where(models.MenuItem.id == salmon).execute()
    cloud.node.store.call(raise_price)
    waiter = await edge.login("waiter@demo.test")

    async def new_price():
        resp = await edge.fetch("GET", "/pos/items/%d" % salmon, token=waiter)
        return resp.body["price"] == 25
    await eventually(new_price, timeout=5.0)
    order = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": salmon}]}, token=waiter)
    assert order.body["order"]["items"][0]["price"] == 25


async def test_a_change_the_edge_may_not_make_is_parked_and_the_rest_goes_on(enrolled, demo):
    cloud, edge = enrolled
    salmon = demo["items"][D]["Grilled Salmon"]
    edge.node.store.call(lambda: models.MenuItem.update(item_name="Cheap Salmon").where(
        models.MenuItem.id == salmon).execute())
    waiter = await edge.login("waiter@demo.test")
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}]}, token=waiter)
    order_id = created.body["order"]["id"]
    await eventually(lambda: count(cloud, models.Order, models.Order.id == order_id), 2.0)
    parked = await eventually(lambda: edge.node.store.call(
        lambda: list(DeadLetter.select())), 2.0)
    assert [(d.table_name, d.row_id) for d in parked] == [("menu_items", salmon)]
    assert "head office" in parked[0].reason
    assert cloud.node.store.call(lambda: models.MenuItem.get_by_id(salmon).item_name) \
        == "Grilled Salmon"
    manager = await edge.login("manager@demo.test")
    status = await edge.fetch("GET", "/sync/status", prefix=False, token=manager)
    assert status.body["dead_letters"] == 1 and status.body["outbox_depth"] == 0


async def test_sync_status_on_both_sides(enrolled, demo):
    cloud, edge = enrolled
    status = await eventually(lambda: _edge_status(edge), 3.0)
    assert status["enrolled"] and status["online"] and status["outbox_depth"] == 0
    owner = await cloud.login("owner@demo.test")
    resp = await cloud.fetch("GET", "/sync/status", token=owner, prefix=False)
    assert resp.status == 200
    (row,) = [r for r in resp.body["edges"] if not r["retired"]]
    assert row["branch"] == D and row["online"] is True
    waiter = await cloud.login("waiter@demo.test")
    assert (await cloud.fetch("GET", "/sync/status", token=waiter, prefix=False)).status == 403


async def _edge_status(edge):
    """The edge's status once it has been online (a manager's view)."""
    manager = getattr(edge, "manager_token", None) or await edge.login("manager@demo.test")
    edge.manager_token = manager
    resp = await edge.fetch("GET", "/sync/status", prefix=False, token=manager)
    return resp.body if resp.body.get("online") else None


async def test_sync_requests_must_be_signed_by_an_enrolled_edge(enrolled):
    cloud, edge = enrolled
    resp = await cloud.fetch("POST", "/sync/push", {"after": 0, "upto": 1, "changes": []},
                             prefix=False)
    assert resp.status == 401 and "refused" in resp.body["message"]
    resp = await cloud.fetch("GET", "/sync/pull?after=0", prefix=False, headers={
        "X-Branchline-Node": str(edge.node.node_id), "X-Branchline-Time": str(int(time.time())),
        "X-Branchline-Signature": "AAAA"})
    assert resp.status == 401


async def test_a_replacement_box_continues_the_numbering_and_retires_the_old_key(
        enrolled, start_node, tmp_path, demo):
    cloud, edge = enrolled
    waiter = await edge.login("waiter@demo.test")
    for _ in range(3):
        await edge.fetch("POST", "/pos/orders", {
            "order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}]},
            token=waiter)
    await eventually(lambda: count(cloud, models.Order) == 3, 2.0)
    old_node = edge.node.node_id
    await edge.close()

    await enroll_box(cloud, tmp_path, "new-box", new_code(cloud, demo["branches"][D]))
    box = await start_node("edge", name="new-box", sync=True)
    assert box.node.node_id != old_node
    retired = cloud.node.store.call(lambda: SyncNode.get_by_id(old_node).retired)
    assert retired
    token = await box.login("waiter@demo.test")
    resp = await box.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}]}, token=token)
    assert resp.body["order"]["order_number"] == 4
    assert await box.node.store.run(state.get_int, state.CURSOR) > 0
    # The old box's orders came by snapshot (the cloud's log does not hold them).
    assert count(box, models.Order, models.Order.order_number <= 3) == 3
    # Nothing of the old box goes in any more, however late its push arrives.
    with pytest.raises(APIError) as refused:
        cloud.node.store.call(ingest.apply_batch, old_node, {
            "after": 0, "upto": 99, "changes": []}, Clock().now())
    assert refused.value.status == 401


async def test_the_cloud_logs_an_edges_shared_rows_and_not_its_branch_rows(enrolled, demo):
    """The cloud's log is read only by its feed, which never sends a branch's rows
    back to its edge: an order applied from the edge is not logged there, a
    customer (which other branches see) is (sync/capture.py)."""
    cloud, edge = enrolled
    waiter = await edge.login("waiter@demo.test")
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}]},
        token=waiter)
    order_id = created.body["order"]["id"]
    customer_id = demo["customers"]["Emily Carter"]

    def rename():
        customer = models.Customer.get_by_id(customer_id)
        customer.name = "Emily Carter-Lee"
        customer.save()
    edge.node.store.call(rename)
    await eventually(lambda: count(cloud, models.Order, models.Order.id == order_id) and count(
        cloud, models.Customer, models.Customer.name == "Emily Carter-Lee"), 3.0)

    def logged(server, table, row_id):
        return count(server, ChangeLog, ChangeLog.table_name == table,
                     ChangeLog.row_id == row_id)
    assert logged(edge, "orders", order_id) and logged(edge, "customers", customer_id)
    assert not logged(cloud, "orders", order_id)
    assert not count(cloud, ChangeLog, ChangeLog.origin == edge.node.node_id,
                     ChangeLog.branch_id.is_null(False))
    assert count(cloud, ChangeLog, ChangeLog.table_name == "customers",
                 ChangeLog.row_id == customer_id, ChangeLog.origin == edge.node.node_id) == 1
    # The cloud's own write to the branch's order is logged, and reaches the edge.
    cloud.node.store.call(lambda: models.Order.update(note="from head office").where(
        models.Order.id == order_id).execute())
    assert logged(cloud, "orders", order_id) == 1


async def test_a_customer_app_order_at_the_cloud_is_cooked_by_the_edge(enrolled, demo):
    cloud, edge = enrolled
    await eventually(lambda: _edge_status(edge), 3.0)          # the edge has pulled once
    staff = await cloud.login("manager@demo.test")
    body = {"order_type": "pickup", "customer": {"name": "Nia", "phone": "5550199"},
            "items": [{"id": demo["items"][D]["Espresso"], "quantity": 2}]}
    placed = await cloud.fetch("POST", "/customer/orders", body, token=staff,
                               headers={"Idempotency-Key": "app-order-1"})
    assert placed.status == 201, placed
    order = placed.body["order"]
    assert order["placed_via"] == "app" and order["order_number"] == 1   # the edge numbered it
    # It exists at the edge, made there, and came back to the cloud.
    assert count(edge, models.Order, models.Order.id == order["id"]) == 1
    await eventually(lambda: count(cloud, models.Order, models.Order.id == order["id"]), 2.0)
    customer_id = order["customer_id"]
    mine = await cloud.fetch("GET", "/customer/orders?customer_id=%d" % customer_id,
                             token=staff)
    assert [o["id"] for o in mine.body["data"]] == [order["id"]]
    # A retry with the same key is the same order, made once.
    again = await cloud.fetch("POST", "/customer/orders", body, token=staff,
                              headers={"Idempotency-Key": "app-order-1"})
    assert again.status == 201 and again.body["order"]["id"] == order["id"]
    assert count(edge, models.Order) == 1
    # ...and the same key for another order is refused, as on the edge itself.
    other = await cloud.fetch("POST", "/customer/orders", dict(body, note="more sugar"),
                              token=staff, headers={"Idempotency-Key": "app-order-1"})
    assert other.status == 422 and "Idempotency-Key" in other.body["errors"]


async def test_head_office_cancels_through_the_edge(enrolled, demo):
    cloud, edge = enrolled
    await eventually(lambda: _edge_status(edge), 3.0)
    waiter = await edge.login("waiter@demo.test")
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}]}, token=waiter)
    order_id = created.body["order"]["id"]
    await eventually(lambda: count(cloud, models.Order, models.Order.id == order_id), 2.0)
    owner = await cloud.login("owner@demo.test")
    cancel = await cloud.fetch("POST", "/pos/orders/%d/status" % order_id,
                               {"status": "cancelled"}, token=owner)
    assert cancel.status == 200 and cancel.body["status"] == "cancelled", cancel
    assert edge.node.store.call(lambda: models.Order.get_by_id(order_id).status) == "canceled"
    # A cancelled order takes no payment: the edge's own answer, carried back.
    pay = await cloud.fetch("POST", "/pos/orders/%d/pay" % order_id, {"method": "card"},
                            token=owner)
    assert pay.status in (409, 422) and pay.body["success"] is False, pay


async def test_the_cloud_refuses_orders_for_an_unreachable_edge(enrolled, demo):
    cloud, edge = enrolled
    await listening(cloud, edge)
    await edge.close()
    staff = await cloud.login("manager@demo.test")
    resp = await cloud.fetch("POST", "/customer/orders", {
        "order_type": "pickup", "customer": {"name": "Nia", "phone": "5550199"},
        "items": [{"id": demo["items"][D]["Espresso"]}]}, token=staff)
    assert resp.status == 503 and int(resp.headers["Retry-After"]) > 0
    assert "Downtown" in resp.body["message"]
    assert count(cloud, models.Order) == 0


async def test_one_customer_edited_on_both_sides_keeps_both_edits(enrolled, demo):
    """Story 5: the same customer changed at the branch and in the app, one record."""
    cloud, edge = enrolled
    customer_id = demo["customers"]["Emily Carter"]

    def edit(**fields):
        def run():
            customer = models.Customer.get_by_id(customer_id)
            for name, value in fields.items():
                setattr(customer, name, value)
            customer.save()
        return run
    edge.node.store.call(edit(name="Emily Carter-Lee"))
    cloud.node.store.call(edit(email="emily.new@example.com"))

    def both(server):
        row = server.node.store.call(lambda: models.Customer.get_by_id(customer_id))
        return (row.name, row.email) == ("Emily Carter-Lee", "emily.new@example.com")
    await eventually(lambda: both(cloud) and both(edge), 3.0)
    # A later edit of the same field on one side wins on both.
    cloud.node.store.call(edit(name="Emily Lee"))
    await eventually(lambda: edge.node.store.call(
        lambda: models.Customer.get_by_id(customer_id).name) == "Emily Lee", 3.0)


async def test_an_edge_key_signs_tokens_for_its_own_branch_only(enrolled, demo):
    cloud, edge = enrolled
    forged = edge.node.keyring.issue(
        user_id=demo["users"]["owner@demo.test"], restaurant_id=demo["restaurant_id"],
        branch_id=demo["branches"]["Airport"], ttl_seconds=600,
        now=edge.node.clock.time())
    assert (await cloud.fetch("GET", "/auth/me", token=forged)).status == 401
    assert (await cloud.fetch("GET", "/pos/orders", token=forged)).status == 401


async def test_an_edge_key_signs_tokens_for_its_own_restaurant_only(enrolled, demo):
    cloud, edge = enrolled
    forged = edge.node.keyring.issue(
        user_id=demo["users"]["owner@demo.test"], restaurant_id=demo["restaurant_id"] + 1,
        branch_id=demo["branches"]["Downtown"], ttl_seconds=600,
        now=edge.node.clock.time())
    for path in ("/auth/me", "/pos/orders", "/pusher/broadcast-settings", "/platform/config"):
        assert (await cloud.fetch("GET", path, token=forged)).status == 401, path


async def test_a_logout_at_the_edge_revokes_the_token_at_the_cloud(enrolled, demo):
    cloud, edge = enrolled
    token = await edge.login("waiter@demo.test")
    assert (await cloud.fetch("GET", "/auth/me", token=token)).status == 200
    channel = "private-orders.branch.%d" % demo["branches"][D]
    at_head_office = await socket_for(cloud, channel, token)
    assert (await edge.fetch("POST", "/auth/logout", token=token)).status == 200

    async def refused():
        return (await cloud.fetch("GET", "/auth/me", token=token)).status == 401
    await eventually(refused, 2.0)
    # the subscription it authorised at the cloud ends as the revocation arrives
    assert (await at_head_office.expect("pusher:error", timeout=1))["data"]["code"] == 4009
    at_head_office.close()


async def test_enrollment_refuses_a_bad_key_without_using_the_code(start_node, tmp_path, demo):
    cloud = await start_node("cloud")
    code = new_code(cloud, demo["branches"][D])
    bad = await cloud.fetch("POST", "/sync/enroll", {
        "code": code, "public_key": "-----BEGIN PUBLIC KEY-----\nnonsense\n", "name": "x"},
        prefix=False)
    assert bad.status == 422 and "public_key" in bad.body["errors"]
    await enroll_box(cloud, tmp_path, "box", code)        # the code still works


async def test_a_malformed_push_is_a_422_not_a_stuck_queue(enrolled):
    cloud, edge = enrolled
    body = json.dumps({"after": 0, "upto": 5, "changes": [{"table": "orders"}]}).encode()
    headers = auth.sign(edge.node.keyring.private_key, edge.node.node_id, "POST", "/sync/push",
                        body, now=edge.node.clock.time())
    resp = await cloud.fetch("POST", "/sync/push", raw=body, headers=headers, prefix=False)
    assert resp.status == 422 and "changes.0.seq" in resp.body["errors"]


@pytest.fixture
async def pusher(start_node, tmp_path, demo):
    """(cloud, push(changes, after, upto) as the Downtown box, a Downtown table's
    encoded row): the box enrolled but its loops not running, so the test pushes."""
    cloud = await start_node("cloud")
    await enroll_box(cloud, tmp_path, "box", new_code(cloud, demo["branches"][D]))
    edge = await start_node("edge", name="box")
    table = edge.node.store.call(lambda: models.Table.select().where(
        models.Table.branch == edge.node.branch_id).order_by(models.Table.id).first().id)
    row = edge.node.store.call(lambda: rows.read_rows("tables", [table])[table])

    async def push(changes, after, upto):
        body = json.dumps({"after": after, "upto": upto, "changes": changes}).encode()
        headers = auth.sign(edge.node.keyring.private_key, edge.node.node_id, "POST",
                            "/sync/push", body, now=edge.node.clock.time())
        return await cloud.fetch("POST", "/sync/push", raw=body, headers=headers, prefix=False)
    cloud.edge_node_id = edge.node.node_id
    return cloud, push, row


async def _cloud_row(cloud):
    owner = await cloud.login("owner@demo.test")
    resp = await cloud.fetch("GET", "/sync/status", token=owner, prefix=False)
    (row,) = [r for r in resp.body["edges"] if r["node_id"] == cloud.edge_node_id]
    return row


async def test_a_fault_at_the_cloud_parks_nothing_and_shows_on_its_status_page(
        pusher, monkeypatch, caplog):
    cloud, push, row = pusher
    change = {"seq": 1, "table": "tables", "id": row["id"], "op": "upsert",
              "row": dict(row, seating_capacity=9)}

    def broken(change):
        raise TypeError("a bug")
    monkeypatch.setattr(apply, "apply_change", broken)
    resp = await push([change], 0, 1)
    assert resp.status == 500 and resp.body["message"] == "Server error."
    assert any(r.exc_info and r.exc_info[0] is TypeError for r in caplog.records)
    status = await _cloud_row(cloud)
    assert status["high_water_mark"] == 0 and status["dead_letters"] == 0
    assert status["last_push_error"]["error"] == "TypeError: a bug"
    monkeypatch.undo()                                   # mended; the edge sends again
    resp = await push([change], 0, 1)
    assert resp.status == 200 and resp.body == {"high_water_mark": 1, "rejected": []}
    status = await _cloud_row(cloud)
    assert status["high_water_mark"] == 1 and status["last_push_error"] is None
    assert cloud.node.store.call(
        lambda: models.Table.get_by_id(row["id"]).seating_capacity) == 9


async def test_a_row_that_cannot_be_read_is_refused_for_good(pusher):
    cloud, push, row = pusher
    resp = await push([{"seq": 1, "table": "tables", "id": row["id"], "op": "upsert",
                        "row": dict(row, seating_capacity="many")}], 0, 1)
    assert resp.status == 200 and resp.body["high_water_mark"] == 1
    [refusal] = resp.body["rejected"]
    assert refusal["id"] == row["id"] and "seating_capacity" in refusal["reason"]
    assert (await _cloud_row(cloud))["dead_letters"] == 1


async def test_rows_of_another_branch_are_refused_together_or_alone(pusher, demo):
    """An edge writes its own branch's rows only: a change to another branch's row,
    or one that would leave a row in another branch, is refused for good and the
    rest of the batch goes in, whether the table's changes went in together or
    each alone."""
    cloud, push, ours = pusher

    def airport_table():
        table = models.Table.select().where(
            models.Table.branch == demo["branches"]["Airport"]).first()
        last = models.Table.select(models.Table.id).order_by(models.Table.id.desc()).first()
        return rows.read_rows("tables", [table.id])[table.id], last.id + 1
    theirs, new_id = cloud.node.store.call(airport_table)
    moved = dict(theirs, branch_id=ours["branch_id"], area_id=ours["area_id"], table_code="T-99")
    made = dict(theirs, id=new_id, table_code="T-98")           # a new row, of the Airport
    resp = await push([
        {"seq": 1, "table": "tables", "id": ours["id"], "op": "upsert",
         "row": dict(ours, seating_capacity=9)},
        {"seq": 2, "table": "tables", "id": theirs["id"], "op": "upsert", "row": moved},
        {"seq": 3, "table": "tables", "id": new_id, "op": "upsert", "row": made}], 0, 3)
    assert resp.status == 200 and resp.body["high_water_mark"] == 3
    assert [(r["seq"], r["reason"]) for r in resp.body["rejected"]] == [
        (2, "tables %d belongs to another branch" % theirs["id"]),
        (3, "tables %d belongs to another branch" % new_id)]
    resp = await push([{"seq": 4, "table": "tables", "id": new_id, "op": "upsert",
                        "row": made}], 3, 4)                   # alone in its batch
    assert [(r["seq"], r["reason"]) for r in resp.body["rejected"]] == [
        (4, "tables %d belongs to another branch" % new_id)]
    assert (await _cloud_row(cloud))["dead_letters"] == 3
    stored = cloud.node.store.call(lambda: rows.read_rows(
        "tables", [ours["id"], theirs["id"], new_id]))
    assert stored[ours["id"]]["seating_capacity"] == 9
    assert stored[theirs["id"]] == theirs and new_id not in stored


async def test_rows_of_another_restaurant_are_refused_together_or_alone(pusher, demo):
    """A customer is shared by the branches of its restaurant only: an edge's change to
    another restaurant's customer is refused for good, whether it went in with the
    edge's own restaurant's customer or alone, and the other restaurant's row is left
    as it was."""
    cloud, push, _ = pusher

    def customers():
        other = models.Restaurant.create(name="Elsewhere", hash="elsewhere-%d" % time.time_ns())
        now = datetime.datetime.utcnow()
        theirs = models.Customer.create(restaurant=other, name="Not ours", created_at=now,
                                        updated_at=now)
        mine = models.Customer.create(restaurant=demo["restaurant_id"], name="Ours",
                                      created_at=now, updated_at=now)
        found = rows.read_rows("customers", [theirs.id, mine.id])
        return found[theirs.id], found[mine.id]
    theirs, mine = cloud.node.store.call(customers)
    for batch, (after, upto) in (([theirs, mine], (0, 2)), ([theirs], (2, 3))):
        changes = [{"seq": after + n + 1, "table": "customers", "id": row["id"],
                    "op": "upsert", "row": dict(row, name=row["name"] + " (edited)")}
                   for n, row in enumerate(batch)]
        resp = await push(changes, after, upto)
        assert resp.status == 200 and resp.body["high_water_mark"] == upto
        assert [(r["seq"], r["reason"]) for r in resp.body["rejected"]] == [
            (after + 1, "customers %d belongs to another restaurant" % theirs["id"])]
    assert (await _cloud_row(cloud))["dead_letters"] == 2
    assert cloud.node.store.call(
        lambda: rows.read_rows("customers", [theirs["id"]]))[theirs["id"]] == theirs


async def test_a_hard_delete_of_a_shared_row_is_refused_for_good(pusher, demo):
    """An edge running older code deletes a customer for real: the cloud does not
    follow (another branch's orders refer to them); it parks the delete."""
    cloud, push, _ = pusher
    emily = demo["customers"]["Emily Carter"]
    home = cloud.node.store.call(lambda: models.CustomerAddress.select().where(
        models.CustomerAddress.customer == emily).first().id)
    resp = await push([{"seq": 1, "table": "customer_addresses", "id": home, "op": "delete"},
                       {"seq": 2, "table": "customers", "id": emily, "op": "delete"}], 0, 2)
    assert resp.status == 200 and resp.body["high_water_mark"] == 2
    assert [(r["table"], r["id"]) for r in resp.body["rejected"]] == [
        ("customer_addresses", home), ("customers", emily)]
    assert all("never deleted" in r["reason"] for r in resp.body["rejected"])
    assert (await _cloud_row(cloud))["dead_letters"] == 2
    assert count(cloud, models.Customer, models.Customer.id == emily,
                 models.Customer.deleted_at.is_null()) == 1
    assert count(cloud, models.CustomerAddress, models.CustomerAddress.id == home) == 1
    # Nor does an edge follow one in its feed: the rule is the apply loop's.
    with pytest.raises(apply.Refused, match="never deleted"):
        cloud.node.store.call(apply.apply_change, {"table": "customers", "id": emily,
                                                   "op": "delete"})


async def test_datetimes_written_together_are_stored_as_written_one_at_a_time(pusher):
    """rows.apply_run (its fast path for a datetime as rows are encoded) stores the
    text rows.upsert stores, whatever form the datetime came in."""
    cloud, _, row = pusher
    forms = ["2026-12-08T04:11:45.387137", "2026-12-08T04:11:45.000000",
             "2026-12-08T04:11:45", "2026-12-08 04:11:45.387137", "2026-12-08T04:11:45.5",
             "2026-12-08T04:11:45.387137+00:00", "2026-W50-2T04:11:45.387137", "2026-12-08"]

    def stored(together):
        first = models.Table.select(models.Table.id).order_by(models.Table.id.desc()).first().id
        made = [dict(row, id=first + n, table_code="T-%d" % n, updated_at=form)
                for n, form in enumerate(forms, 1)]
        if together:
            assert rows.apply_run([{"table": "tables", "id": r["id"], "op": "upsert", "row": r}
                                   for r in made])
        else:
            for r in made:
                rows.upsert("tables", r)
        db = cloud.node.store.db
        texts = [str(db.execute_sql("SELECT updated_at FROM tables WHERE id = %s" % db.param,
                                    (r["id"],)).fetchone()[0]) for r in made]
        models.Table.delete().where(models.Table.id > first).execute()
        return texts
    alone = cloud.node.store.call(stored, False)
    assert alone[:3] == ["2026-12-08 04:11:45.387137", "2026-12-08 04:11:45",
                         "2026-12-08 04:11:45"]
    assert cloud.node.store.call(stored, True) == alone


async def test_rows_read_in_bulk_are_encoded_as_the_models_encode_them(enrolled, demo):
    """rows.read_rows (fast paths for datetimes, amounts) == rows.encode_row, for
    every replicated table the edge holds rows of."""
    cloud, edge = enrolled
    waiter = await edge.login("waiter@demo.test")
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": demo["items"][D]["Grilled Salmon"],
                                           "quantity": 3}]}, token=waiter)
    assert created.status == 201

    def compare():
        checked = 0
        for table, model in rows.MODELS.items():
            stored = list(model.select().limit(50))
            bulk = rows.read_rows(table, [r.id for r in stored], for_edge=True)
            for row in stored:
                assert bulk[row.id] == rows.encode_row(row, for_edge=True), table
                checked += 1
        return checked
    assert edge.node.store.call(compare) > 100


def test_an_edge_that_hung_up_here_and_pulled_at_another_process_is_listening():
    presence, t0 = Presence(), Clock().now()
    presence.opened(2)
    presence.closed(2, answered=False, at=t0)             # the edge went away, here
    assert presence.hung_up(2, last_pull_at=t0 - datetime.timedelta(seconds=1))
    # ...and came back with a pull that another cloud process took.
    assert not presence.hung_up(2, last_pull_at=t0 + datetime.timedelta(seconds=1))
    presence.opened(2)                                    # or one taken here
    assert not presence.hung_up(2) and presence.listening(2)


async def test_a_box_put_back_by_hand_older_than_the_cloud_holds_its_outbox(
        enrolled, start_node, tmp_path, demo):
    cloud, edge = enrolled
    waiter = await edge.login("waiter@demo.test")
    order = {"order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}]}
    database = edge.node.settings.data_dir + "/edge.db"
    copy = str(tmp_path / "copy.db")
    assert (await edge.fetch("POST", "/pos/orders", order, token=waiter)).status == 201
    await eventually(lambda: count(cloud, models.Order) == 1, 5.0)
    await asyncio.to_thread(lambda: sqlite3.connect(database).backup(sqlite3.connect(copy)))
    for _ in range(3):              # sent after the copy: the cloud's mark moves on
        assert (await edge.fetch("POST", "/pos/orders", order, token=waiter)).status == 201
    await eventually(lambda: count(cloud, models.Order) == 4, 5.0)
    at_cloud = cloud.node.store.call(lambda: list(models.Order.select().dicts()))
    await edge.close()
    for suffix in ("-wal", "-shm"):
        if os.path.exists(database + suffix):
            os.remove(database + suffix)
    shutil.copyfile(copy, database)            # put back by hand, not by restore
    edge = await start_node("edge", name="box", sync=True)
    waiter = await edge.login("waiter@demo.test")
    made = await edge.fetch("POST", "/pos/orders", order, token=waiter)
    assert made.status == 201
    status = await eventually(lambda: _held(edge), 5.0)
    # Held, not acknowledged: the new order waits in the outbox, and says why; the
    # cloud's orders (the lost box's among them, whose ids the copy reuses) are as
    # they were.
    assert status["outbox_depth"] >= 1 and "older copy" in status["last_push_error"]["error"]
    assert cloud.node.store.call(lambda: list(models.Order.select().dicts())) == at_cloud
    # Held for good: once this copy's numbers pass the cloud's mark (more orders, a
    # restart), its changes still are not taken for ones the cloud has.
    for _ in range(4):
        assert (await edge.fetch("POST", "/pos/orders", order, token=waiter)).status == 201
    await edge.close()
    edge = await start_node("edge", name="box", sync=True)
    await asyncio.sleep(1.0)
    status = await _held(edge)
    assert status and "older copy" in status["last_push_error"]["error"], status
    assert cloud.node.store.call(lambda: list(models.Order.select().dicts())) == at_cloud


async def _held(edge):
    status = await _edge_status(edge)
    return status if status["last_push_error"] else None
