"""Every route at the cloud, for a branch its edge runs: the branch's own writes are
carried out by the edge as commands and answered with its answer; shared data is
written at the cloud; an unreachable edge is a 503 with nothing done; a retried
request is carried out once; switching branch; head office hears the edge's news."""

import datetime
import json

import pytest
import tornado.simple_httpclient

from edge import server as edge_server
from faultproxy import FaultProxy
from protocol import models
from sync import announce
from sync.models import Command
from test_realtime import socket_for
from test_sync import count, enrolled, eventually, listening  # noqa: F401 - a fixture

D, A = "Downtown", "Airport"


def at_edge(edge, fn):
    return edge.node.store.call(fn)


async def ok(resp, *codes):
    assert resp.status in (codes or (200, 201)), resp
    return resp.body


async def test_the_owners_day_at_the_cloud_is_carried_out_by_the_edge(enrolled, demo):
    """The module's diagnostics, replayed at the cloud as the owner for Downtown."""
    cloud, edge = enrolled
    await listening(cloud, edge)
    owner = await cloud.login("owner@demo.test")
    table = demo["tables"][D]["T1"]
    created = await ok(await cloud.fetch("POST", "/pos/orders", {
        "order_type": "Dine In", "table_id": table, "actions": ["kot"],
        "items": [{"id": demo["items"][D]["Garlic Bread"]}]}, token=owner))
    order_id = created["order"]["id"]
    assert at_edge(edge, lambda: models.Order.get_by_id(order_id).status) == "kot"

    unlock = await ok(await cloud.fetch("POST", "/pos/tables/%d/unlock" % table, token=owner))
    assert unlock["success"] is True
    assert at_edge(edge, lambda: models.TableLock.select().where(
        models.TableLock.table == table).count()) == 0

    paid = await ok(await cloud.fetch("POST", "/pos/orders/%d/pay" % order_id,
                                      {"method": "card"}, token=owner))
    assert paid["status"] == "paid"
    assert at_edge(edge, lambda: models.Payment.select().where(
        models.Payment.order == order_id).count()) == 1

    # Shared data is written at the cloud and reaches the edge by sync.
    customer = await ok(await cloud.fetch("POST", "/pos/customers", {
        "name": "Grace Hopper", "phone_code": "1", "phone": "2125550111", "email": "grace@example.com"},
        token=owner))
    customer_id = customer["customer"]["id"]
    address = await ok(await cloud.fetch("POST", "/customer-addresses", {
        "customer_id": customer_id, "label": "Home", "address": "1 Navy Yard",
        "lat": 40.7, "lng": -73.97}, token=owner))
    assert address
    await eventually(lambda: count(edge, models.CustomerAddress,
                                   models.CustomerAddress.customer == customer_id), 5.0)
    saved = await ok(await cloud.fetch("POST", "/pos/notifications/register-token", {
        "token": "fcm-owner-phone", "platform": "android"}, token=owner))
    assert saved == {"saved": True}
    await eventually(lambda: count(edge, models.DeviceToken,
                                   models.DeviceToken.token == "fcm-owner-phone"), 5.0)

    # A notification of the branch is made at the edge; the owner reads it at the cloud.
    await ok(await cloud.fetch("POST", "/pos/notifications/test", {
        "title": "Check", "body": "from head office"}, token=owner))
    note = await eventually(lambda: cloud.node.store.call(
        lambda: models.Notification.get_or_none(models.Notification.title == "Check")), 5.0)
    read = await ok(await cloud.fetch("POST", "/pos/notifications/%d/read" % note.id,
                                      token=owner))
    assert read == {"read": True}
    await eventually(lambda: at_edge(edge, lambda: models.Notification.get_by_id(
        note.id).read_at), 5.0)


async def test_an_order_loop_through_the_cloud(enrolled, demo):
    """A waiter's phone on mobile data: create, kitchen, more items, bill, split pay."""
    cloud, edge = enrolled
    await listening(cloud, edge)
    waiter = await cloud.login("waiter@demo.test")
    table = demo["tables"][D]["T2"]
    created = await ok(await cloud.fetch("POST", "/pos/orders", {
        "order_type": "dine_in", "table_id": table,
        "items": [{"id": demo["items"][D]["Grilled Salmon"]}]}, token=waiter))
    order_id = created["order"]["id"]
    path = "/pos/orders/%d" % order_id
    kot = await ok(await cloud.fetch("POST", path + "/kot", {}, token=waiter))
    assert kot
    more = await ok(await cloud.fetch("PUT", path + "/items", {
        "items": [{"id": demo["items"][D]["Espresso"], "quantity": 2}]}, token=waiter))
    assert more["data"]["items_count"] == 2 and len(more["data"]["added_items"]) == 1
    billed = await ok(await cloud.fetch("PUT", path, {"action": "bill"}, token=waiter))
    assert billed["order"]["status"] == "billed"
    total = billed["order"]["total"]
    first = await ok(await cloud.fetch("POST", path + "/split-payments", {
        "amount": 10, "payment_method": "cash", "status": "paid"}, token=waiter))
    assert first["amount_due"] == pytest.approx(total - 10)
    rest = await ok(await cloud.fetch("POST", path + "/pay", {
        "amount": first["amount_due"], "method": "card"}, token=waiter))
    assert rest["status"] == "paid"
    # Everything happened at the edge, once; the table is free again there.
    assert at_edge(edge, lambda: models.Order.get_by_id(order_id).status) == "paid"
    assert at_edge(edge, lambda: models.Table.get_by_id(table).available_status) == "available"
    assert count(edge, models.Order) == 1
    # ...and the cloud hears of it by sync.
    await eventually(lambda: cloud.node.store.call(
        lambda: models.Order.get_or_none(models.Order.id == order_id)
        and models.Order.get_by_id(order_id).status == "paid"), 5.0)


async def test_a_stopped_edge_is_a_503_and_nothing_is_left_at_the_cloud(enrolled, demo):
    cloud, edge = enrolled
    await listening(cloud, edge)
    waiter = await cloud.login("waiter@demo.test")
    made = await ok(await cloud.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}]},
        token=waiter))
    await eventually(lambda: count(cloud, models.Order), 5.0)
    commands_before = count(cloud, Command)
    await edge.close()
    for method, path, body in (
            ("POST", "/pos/orders", {"order_type": "pickup",
                                     "items": [{"id": demo["items"][D]["Espresso"]}]}),
            ("POST", "/pos/orders/%d/pay" % made["order"]["id"], {"method": "card"}),
            ("POST", "/pos/tables/%d/unlock" % demo["tables"][D]["T3"], None)):
        resp = await cloud.fetch(method, path, body, token=waiter,
                                 headers={"Idempotency-Key": "k-" + path})
        assert resp.status == 503, resp
        assert int(resp.headers["Retry-After"]) > 0 and "Downtown" in resp.body["message"]
    assert count(cloud, Command) == commands_before
    assert count(cloud, models.Order) == 1 and count(cloud, models.Payment) == 0
    # Shared data does not need the edge.
    customer = await cloud.fetch("POST", "/pos/customers", {"name": "Ada", "phone_code": "1", "phone": "2125550100"},
                                 token=waiter)
    assert customer.status == 200, customer


async def test_an_answer_cut_on_the_way_back_is_retried_into_the_same_order(enrolled, demo):
    cloud, edge = enrolled
    await listening(cloud, edge)
    proxy = await FaultProxy(cloud.port, seed=1).start()
    await proxy.set_faults(False)
    waiter = await cloud.login("waiter@demo.test")
    body = {"order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}]}
    key = {"Idempotency-Key": "phone-3-order-9", "Connection": "close"}
    try:
        proxy.force("/api/application-integration/pos/orders", "cut")
        try:
            cut = await cloud.client.fetch(
                proxy.url + "/api/application-integration/pos/orders", method="POST",
                body=json.dumps(body), raise_error=False, request_timeout=20,
                headers=dict(key, Authorization="Bearer " + waiter,
                             **{"Content-Type": "application/json"}))
        except tornado.simple_httpclient.HTTPStreamClosedError:
            cut = None                      # closed before the answer's end
        if cut is not None:                 # or a part of an answer, which is no answer
            with pytest.raises(ValueError):
                json.loads(cut.body)
        assert proxy.counts["cut", "/api/application-integration/pos/orders"] == 1
    finally:
        await proxy.close()
    # The order was made at the edge; the phone never heard. It asks again.
    assert count(edge, models.Order) == 1
    again = await ok(await cloud.fetch("POST", "/pos/orders", body, token=waiter,
                                       headers={"Idempotency-Key": "phone-3-order-9"}))
    assert count(edge, models.Order) == 1
    order_id = again["order"]["id"]
    # The key reached the edge: asked there directly (the LAN is back), the same answer.
    direct = await ok(await edge.fetch("POST", "/pos/orders", body, token=waiter,
                                       headers={"Idempotency-Key": "phone-3-order-9"}))
    assert direct["order"]["id"] == order_id and count(edge, models.Order) == 1
    # The same key for another request is refused, at the cloud as at the edge.
    other = await cloud.fetch("POST", "/pos/orders", dict(body, pax=4), token=waiter,
                              headers={"Idempotency-Key": "phone-3-order-9"})
    assert other.status == 422 and "Idempotency-Key" in other.body["errors"]


async def test_switching_branch_at_the_cloud_moves_every_request(enrolled, demo):
    cloud, edge = enrolled
    await listening(cloud, edge)
    owner = await cloud.login("owner@demo.test")
    for branch, at in ((A, cloud), (D, edge), (A, cloud)):
        switched = await ok(await cloud.fetch("POST", "/platform/switch-branch", {
            "branch_id": demo["branches"][branch]}, token=owner))
        assert switched["branch"]["id"] == demo["branches"][branch]
        made = await ok(await cloud.fetch("POST", "/pos/orders", {
            "order_type": "pickup", "items": [{"id": demo["items"][branch]["Espresso"]}]},
            token=owner))                         # the old token: it acts on the new branch
        order_id = made["order"]["id"]
        assert at.node.store.call(lambda: models.Order.get_by_id(order_id).branch_id) == \
            demo["branches"][branch]
        paid = await ok(await cloud.fetch("POST", "/pos/orders/%d/pay" % order_id,
                                          {"method": "cash"}, token=owner))
        assert paid["status"] == "paid"
    assert count(edge, models.Order) == 1         # Airport's orders never went there


async def test_head_office_hears_an_offline_reservation_when_the_edge_returns(
        enrolled, demo, monkeypatch):
    cloud, edge = enrolled
    monkeypatch.setattr(announce, "LATE", datetime.timedelta(0))   # everything replayed is late
    await listening(cloud, edge)
    owner = await cloud.login("owner@demo.test")
    channel = "private-reservations.branch.%d" % demo["branches"][D]
    sock = await socket_for(cloud, channel, owner)
    try:
        await edge.sync.stop()                    # the internet goes
        waiter = await edge.login("waiter@demo.test")
        made = await edge.fetch("POST", "/pos/reservations", {
            "table_id": demo["tables"][D]["T6"], "reservation_date_time": "2026-12-24 19:00",
            "party_size": 4, "name": "Offline Party"}, token=waiter)
        assert made.status == 201, made
        edge.sync = edge_server.start_sync(edge.node)       # ...and comes back
        event = await sock.expect("reservation.created", timeout=10)
        assert event["data"]["id"] == made.body["id"] and event["data"]["late"] is True
        assert event["data"]["name"] == "Offline Party"
    finally:
        sock.close()
