"""Orders over HTTP: catalog pricing with hand-computed totals, actions, idempotency,
payments, splits, tips, status vocabulary and roles."""

import asyncio

import pytest

from protocol import models

D = "Downtown"


def catalog_ids(edge, item_name):
    """Variation and modifier option ids of an item, by name (read from the edge's file)."""
    def read():
        item = models.MenuItem.get((models.MenuItem.item_name == item_name) &
                                   (models.MenuItem.branch == edge.node.branch_id))
        variations = {v.variation: v.id for v in item.variations}
        options = {}
        for link in item.item_modifiers:
            for option in link.modifier_group.options:
                options[option.name] = option.id
        return item.id, variations, options
    return edge.node.store.call(read)




async def create(edge, token, body, **kwargs):
    return await edge.fetch("POST", "/pos/orders", body, token=token, **kwargs)


def summary_adds_up(s):
    total = (s["sub_total"] - s["discount_amount"] + s["charges_total"] + s["delivery_fee"]
             + s["tip_amount"] + (0 if s["tax_inclusive"] else s["tax_total"]))
    return round(total, 2) == s["grand_total"]


async def test_dine_in_order_is_priced_from_the_catalog(edge, waiter, demo):
    burger, _, burger_opts = catalog_ids(edge, "Classic Cheeseburger")
    pizza, pizza_sizes, _ = catalog_ids(edge, "Margherita Pizza")
    resp = await create(edge, waiter, {
        "order_type": "Dine In", "table_id": demo["tables"][D]["T3"], "pax": 3,
        "items": [
            {"id": burger, "quantity": 2, "price": 1.00, "modifiers": [
                {"id": burger_opts["Bacon"], "price": 0}, {"id": burger_opts["Extra patty"]},
                {"id": burger_opts["Medium rare"]}]},
            {"id": pizza, "quantity": 1, "variation_id": pizza_sizes['Large 14"']},
        ],
        "discount_type": "percentage", "discount_value": 10,
        "taxes": [{"id": 1, "amount": 0.01}], "actions": ["kot"]})
    assert resp.status == 201, resp
    body = resp.body
    assert body["success"] is True and len(body["kot_ids"]) >= 1
    lines = body["cart"]["items"]
    # (14.50 + 2.00 + 3.50 + 0) x 2 = 40.00; Large Margherita 12.00 + 6.00 = 18.00
    assert [(l["name"], l["quantity"], l["price"], l["modifiers_total"], l["amount"])
            for l in lines] == [("Classic Cheeseburger", 2, 14.5, 5.5, 40.0),
                                ('Margherita Pizza (Large 14")', 1, 18.0, 0.0, 18.0)]
    s = body["cart"]["summary"]
    # sub 58.00; 10% off 5.80 -> 52.20; state 8.875% 4.63275 -> 4.63; city 2.5% 1.305 -> 1.31
    # service charge 10% of 52.20 = 5.22; total 52.20 + 5.94 + 5.22 = 63.36
    assert s["sub_total"] == 58.0 and s["discount_amount"] == 5.8
    assert [(t["name"], t["amount"]) for t in body["cart"]["taxes"]] == [
        ("State Tax", 4.63), ("City Tax", 1.31)]
    assert body["cart"]["charges"][0]["name"] == "Service Charge"
    assert s["charges_total"] == 5.22 and s["tax_total"] == 5.94
    assert s["grand_total"] == 63.36 and summary_adds_up(s)
    order = body["order"]
    assert (order["status"], order["order_status"]) == ("kot", "confirmed")
    assert order["financials"]["total"] == 63.36 and order["financials"]["amount_paid"] == 0
    assert order["formatted_order_number"].startswith("ORD-") and order["order_number"] == 1
    assert '"total":63.36' in resp.text          # exact decimals on the wire


async def test_delivery_order_uses_delivery_prices_fee_and_packaging(edge, waiter):
    pizza, sizes, opts = catalog_ids(edge, "Margherita Pizza")
    resp = await create(edge, waiter, {
        "order_type": "delivery", "delivery_fee": 5, "discount_type": "fixed",
        "discount_value": 3, "delivery_address": "1 Main St",
        "customer": {"name": "Ada", "phone": "5550001"},
        "items": [{"id": pizza, "variation_id": sizes['Large 14"'], "quantity": 2,
                   "modifiers": [opts["Extra cheese"]]}]})
    assert resp.status == 201, resp
    s = resp.body["cart"]["summary"]
    line = resp.body["cart"]["items"][0]
    # delivery prices are 10% above dine-in: Large 19.80, extra cheese 1.65
    assert (line["price"], line["modifiers_total"], line["amount"]) == (19.8, 1.65, 42.9)
    # 42.90 - 3.00 = 39.90; state 3.541125 -> 3.54; city 0.9975 -> 1.00; packaging 1.50; fee 5
    assert (s["sub_total"], s["discount_amount"], s["tax_total"]) == (42.9, 3.0, 4.54)
    assert (s["charges_total"], s["delivery_fee"], s["grand_total"]) == (1.5, 5.0, 50.94)
    assert summary_adds_up(s)
    order = resp.body["order"]
    assert order["status"] == "draft" and order["customer"]["phone"] == "5550001"


async def test_the_customer_is_upserted_by_phone(edge, waiter, demo):
    garlic = demo["items"][D]["Garlic Bread"]
    first = await create(edge, waiter, {"order_type": "pickup", "items": [{"id": garlic}],
                                        "customer": {"name": "Ann", "phone": "5551234"}})
    second = await create(edge, waiter, {"order_type": "pickup", "items": [{"id": garlic}],
                                         "customer": {"name": "Ann Lee", "phone": "5551234"}})
    assert first.body["order"]["customer_id"] == second.body["order"]["customer_id"]
    assert second.body["order"]["customer"]["name"] == "Ann Lee"


@pytest.mark.parametrize("items, field", [
    ([], "items"),
    ([{"quantity": 1}], "items.0"),
    ([{"id": 999, "quantity": 1}], "items.0.id"),
    ([{"id": "GARLIC", "quantity": 0}], "items.0.quantity"),
])
async def test_invalid_items_are_422_with_field_errors(edge, waiter, demo, items, field):
    for item in items:
        if item.get("id") == "GARLIC":
            item["id"] = demo["items"][D]["Garlic Bread"]
    resp = await create(edge, waiter, {"order_type": "pickup", "items": items})
    assert resp.status == 422, resp
    assert field in resp.body["errors"], resp.body


async def test_required_choices_and_foreign_items_are_refused(edge, waiter, demo):
    edge.node.store.call(lambda: models.Restaurant.update(require_item_choices=True).execute())
    burger, _, opts = catalog_ids(edge, "Classic Cheeseburger")
    pizza, _, _ = catalog_ids(edge, "Margherita Pizza")
    missing = await create(edge, waiter, {"order_type": "pickup", "items": [{"id": burger}]})
    assert missing.status == 422 and "Cooking preference" in missing.text
    two = await create(edge, waiter, {"order_type": "pickup", "items": [
        {"id": burger, "modifiers": [opts["Rare"], opts["Well done"]]}]})
    assert two.status == 422 and "Choose one option" in two.text
    no_size = await create(edge, waiter, {"order_type": "pickup", "items": [{"id": pizza}]})
    assert no_size.status == 422 and "items.0.variation_id" in no_size.body["errors"]
    airport_item = demo["items"]["Airport"]["Garlic Bread"]
    foreign = await create(edge, waiter, {"order_type": "pickup", "items": [{"id": airport_item}]})
    assert foreign.status == 422 and "items.0.id" in foreign.body["errors"]
    bad_type = await create(edge, waiter, {"order_type": "teleport",
                                           "items": [{"id": demo["items"][D]["Espresso"]}]})
    assert bad_type.status == 422 and "order_type" in bad_type.body["errors"]


@pytest.mark.parametrize("action, status, order_status, table_status", [
    (None, "draft", "placed", "available"),
    ("draft", "draft", "placed", "available"),
    ("kot", "kot", "confirmed", "running"),
    ("bill", "billed", "confirmed", "running"),
    ("cancel", "canceled", "cancelled", "available"),
])
async def test_first_action_decides_status_and_table(edge, waiter, demo, action, status,
                                                     order_status, table_status):
    table = demo["tables"][D]["T5"]
    resp = await create(edge, waiter, {
        "order_type": "dine_in", "table_id": table,
        "items": [{"id": demo["items"][D]["Garlic Bread"]}],
        "actions": [action] if action else []})
    assert resp.status == 201, resp
    assert (resp.body["order"]["status"], resp.body["order"]["order_status"]) == (
        status, order_status)
    assert bool(resp.body["kot_ids"]) == (action == "kot")
    tables = await edge.fetch("GET", "/pos/tables", token=waiter)
    assert tables.status == 200
    row = next(t for t in tables.body["tables"] if t["id"] == table)
    assert row["available_status"] == table_status


async def test_idempotency_key_returns_the_first_answer(edge, waiter, demo):
    body = {"order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"]}]}
    key = {"Idempotency-Key": "tablet-7-order-1"}
    first = await create(edge, waiter, body, headers=key)
    again = await create(edge, waiter, body, headers=key)
    assert first.status == again.status == 201
    assert first.body == again.body
    other = await create(edge, waiter, dict(body, note="different"), headers=key)
    assert other.status == 422 and "Idempotency-Key" in other.body["errors"]
    listing = await edge.fetch("GET", "/pos/orders", token=waiter)
    assert listing.body["total"] == 1


async def test_a_client_uuid_dedupes_a_retried_create(edge, waiter, demo):
    body = {"order_type": "pickup", "uuid": "6f1c7d3e-1111-4a5b-9c1d-000000000001",
            "items": [{"id": demo["items"][D]["Espresso"]}]}
    first = await create(edge, waiter, body)
    again = await create(edge, waiter, body)
    assert again.status in (200, 201)
    assert again.body["order"]["id"] == first.body["order"]["id"]
    assert (await edge.fetch("GET", "/pos/orders", token=waiter)).body["total"] == 1


async def order_of(edge, token, demo, **extra):
    body = {"order_type": "dine_in", "table_id": demo["tables"][D]["T2"],
            "items": [{"id": demo["items"][D]["Ribeye Steak"] if False else
                       demo["items"][D]["Grilled Salmon"], "quantity": 1}],
            "actions": ["kot"]}
    body.update(extra)
    resp = await create(edge, token, body)
    assert resp.status == 201, resp
    return resp.body["order"]


async def test_payments_accumulate_until_paid_and_free_the_table(edge, waiter, demo):
    order = await order_of(edge, waiter, demo)
    total = order["total"]                      # 22.00 + 11.375% tax + 10% service = 26.70
    assert total == 26.7
    path = "/pos/orders/%d/pay" % order["id"]
    card = await edge.fetch("POST", path, {"amount": 10, "method": "card"}, token=waiter)
    assert card.status == 200 and card.body["status"] == "payment_due"
    assert card.body["amount_paid"] == 10 and card.body["amount_due"] == 16.7
    over = await edge.fetch("POST", path, {"amount": 20, "method": "card"}, token=waiter)
    assert over.status == 422 and "amount" in over.body["errors"]
    negative = await edge.fetch("POST", path, {"amount": -5}, token=waiter)
    assert negative.status == 422
    cash = await edge.fetch("POST", path, {"amount": 20, "payment_method": "cash"},
                            token=waiter)
    assert cash.status == 200, cash
    assert cash.body["status"] == "paid" and cash.body["change_given"] == 3.3
    again = await edge.fetch("POST", path, {}, token=waiter)
    assert again.status == 422
    shown = await edge.fetch("GET", "/pos/orders/%d" % order["id"], token=waiter)
    assert shown.body["status"] == "paid" and shown.body["financials"]["amount_paid"] == total
    # The table is free for the next guests.
    next_guests = await order_of(edge, await edge.login("waiter2@demo.test"), demo)
    assert next_guests["table_id"] == demo["tables"][D]["T2"]


async def test_pay_without_amount_pays_what_is_due(edge, waiter, demo):
    order = await order_of(edge, waiter, demo)
    resp = await edge.fetch("POST", "/pos/orders/%d/pay" % order["id"], {"method": "wallet"},
                            token=waiter)
    assert resp.status == 200 and resp.body["status"] == "paid"
    assert resp.body["amount"] == order["total"]


async def test_a_retried_payment_is_recorded_once(edge, waiter, demo):
    order = await order_of(edge, waiter, demo)
    path = "/pos/orders/%d/pay" % order["id"]
    headers = {"Idempotency-Key": "pay-%d-1" % order["id"]}
    answers = await asyncio.gather(*[
        edge.fetch("POST", path, {"amount": 5, "method": "card"}, token=waiter, headers=headers)
        for _ in range(5)])
    assert {a.status for a in answers} == {200}
    assert len({a.body["payment_id"] for a in answers}) == 1
    payments = edge.node.store.call(lambda: models.Payment.select().where(
        models.Payment.order == order["id"]).count())
    assert payments == 1


async def test_paying_a_cancelled_order_is_refused(edge, waiter, demo):
    order = await order_of(edge, waiter, demo)
    manager = await edge.login("manager@demo.test")     # a waiter may not cancel orders
    cancel = await edge.fetch("POST", "/pos/orders/%d/status" % order["id"],
                              {"status": "canceled"}, token=manager)
    assert cancel.status == 200 and cancel.body["status"] == "cancelled"
    resp = await edge.fetch("POST", "/pos/orders/%d/pay" % order["id"], {"amount": 1},
                            token=waiter)
    assert resp.status == 422 and resp.body["success"] is False


async def test_split_payments_never_exceed_what_is_due(edge, waiter, demo):
    order = await order_of(edge, waiter, demo)      # total 26.70
    path = "/pos/orders/%d/split-payments" % order["id"]
    first = await edge.fetch("POST", path, {"amount": 10, "payment_method": "cash",
                                            "status": "paid"}, token=waiter)
    assert first.status == 200, first
    assert first.body["split_order_id"] and first.body["amount_due"] == 16.7
    later = await edge.fetch("POST", path, {"amount": 10, "payment_method": "card",
                                            "status": "pending"}, token=waiter)
    assert later.status == 200
    too_much = await edge.fetch("POST", path, {"amount": 7, "payment_method": "card"},
                                token=waiter)
    assert too_much.status == 422          # only 6.70 is left beyond the pending split
    bad = await edge.fetch("POST", path, {"amount": 0, "payment_method": "cheque"},
                           token=waiter)
    assert bad.status == 422 and set(bad.body["errors"]) == {"amount", "payment_method"}
    rest = await edge.fetch("POST", "/pos/orders/%d/pay" % order["id"],
                            {"amount": 16.7, "method": "card"}, token=waiter)
    assert rest.status == 200 and rest.body["status"] == "paid"


async def test_split_by_items_charges_their_share(edge, waiter, demo):
    resp = await create(edge, waiter, {
        "order_type": "pickup", "items": [{"id": demo["items"][D]["Espresso"], "quantity": 2},
                                          {"id": demo["items"][D]["Garlic Bread"]}]})
    order = resp.body["order"]
    espresso = order["items"][0]
    split = await edge.fetch("POST", "/pos/orders/%d/split-payments" % order["id"], {
        "payment_method": "card", "items": [{"order_item_id": espresso["id"], "quantity": 1}]},
        token=waiter)
    assert split.status == 200, split
    # one espresso (pickup price 2.85 of the 11.88 sub-total) carries its share of the
    # taxes and charges: 2.85 * 14.73 / 11.88 = 3.533 -> 3.53
    assert espresso["price"] == 2.85 and order["sub_total"] == 11.88
    assert split.body["amount"] == 3.53


async def test_a_tip_is_added_to_what_is_due(edge, waiter, demo):
    order = await order_of(edge, waiter, demo)
    paid = await edge.fetch("POST", "/pos/orders/%d/pay" % order["id"], {"method": "card"},
                            token=waiter)
    assert paid.body["status"] == "paid"
    tip = await edge.fetch("POST", "/pos/orders/%d/tip" % order["id"], {"amount": 4},
                           token=waiter)
    assert tip.status == 200 and tip.body["tip_amount"] == 4
    assert tip.body["total"] == order["total"] + 4 and tip.body["amount_due"] == 4
    assert tip.body["status"] == "payment_due"
    negative = await edge.fetch("POST", "/pos/orders/%d/tip" % order["id"], {"amount": -1},
                                token=waiter)
    assert negative.status == 422


async def test_status_outside_the_vocabulary_is_422_with_allowed(edge, waiter, demo):
    order = await order_of(edge, waiter, demo)
    resp = await edge.fetch("POST", "/pos/orders/%d/status" % order["id"],
                            {"status": "teleported"}, token=waiter)
    assert resp.status == 422
    assert "food_ready" in resp.body["allowed"] and "status" in resp.body["errors"]
    ok = await edge.fetch("POST", "/pos/orders/%d/status" % order["id"],
                          {"status": "preparing"}, token=waiter)
    assert ok.body == {"success": True, "order_id": order["id"], "status": "preparing",
                       "payment_status": "kot"}


async def test_a_waiter_cannot_cancel_a_paid_order_but_a_manager_can(edge, waiter, demo):
    order = await order_of(edge, waiter, demo)
    await edge.fetch("POST", "/pos/orders/%d/pay" % order["id"], {"method": "card"},
                     token=waiter)
    refused = await edge.fetch("POST", "/pos/orders/%d/status" % order["id"],
                               {"status": "cancelled"}, token=waiter)
    assert refused.status == 403 and refused.body["success"] is False
    manager = await edge.login("manager@demo.test")
    allowed = await edge.fetch("POST", "/pos/orders/%d/status" % order["id"],
                               {"status": "cancelled"}, token=manager)
    assert allowed.status == 200


async def test_update_items_reprices_and_sends_only_new_lines(edge, waiter, demo):
    order = await order_of(edge, waiter, demo)
    resp = await edge.fetch("PUT", "/pos/orders/%d/items" % order["id"], {"items": [
        {"action": "add", "menu_item_id": demo["items"][D]["Espresso"], "quantity": 2},
        {"action": "update", "order_item_id": order["items"][0]["id"], "quantity": 2}]},
        token=waiter)
    assert resp.status == 200, resp
    data = resp.body["data"]
    assert len(data["added_items"]) == 1 and data["updated_items"] == [order["items"][0]["id"]]
    assert data["sub_total"] == 50.0         # 2 x 22.00 + 2 x 3.00
    assert len(data["kot_ids"]) == 2         # the second salmon (Kitchen), the espressos (Bar)
    shown = (await edge.fetch("GET", "/pos/orders/%d" % order["id"], token=waiter)).body
    assert summary_adds_up(shown["cart"]["summary"])
    assert all(line["kot_quantity"] == line["quantity"] for line in shown["items"])
    shrink = await edge.fetch("PUT", "/pos/orders/%d/items" % order["id"], {"items": [
        {"action": "update", "order_item_id": order["items"][0]["id"], "quantity": 1}]},
        token=waiter)
    assert shrink.status == 422 and "kitchen" in shrink.body["message"]


async def test_put_order_moves_the_table_and_applies_actions(edge, waiter, demo):
    resp = await create(edge, waiter, {"order_type": "dine_in", "table_id": demo["tables"][D]["T6"],
                                       "items": [{"id": demo["items"][D]["Espresso"]}]})
    order = resp.body["order"]
    moved = await edge.fetch("PUT", "/pos/orders/%d" % order["id"], {
        "table_id": demo["tables"][D]["T7"], "pax": 4, "actions": ["kot"]}, token=waiter)
    assert moved.status == 200, moved
    assert moved.body["order"]["table_id"] == demo["tables"][D]["T7"]
    assert moved.body["order"]["status"] == "kot" and moved.body["kot_ids"]
    assert moved.body["order"]["pax"] == 4


async def test_orders_list_is_a_laravel_paginator_with_filters(edge, waiter, demo):
    for _ in range(22):
        await create(edge, waiter, {"order_type": "pickup",
                                    "items": [{"id": demo["items"][D]["Espresso"]}]})
    page1 = await edge.fetch("GET", "/pos/orders", token=waiter)
    assert page1.status == 200
    body = page1.body
    assert set(body) >= {"current_page", "data", "first_page_url", "from", "last_page",
                         "last_page_url", "links", "next_page_url", "path", "per_page",
                         "prev_page_url", "to", "total"}
    assert (body["total"], body["per_page"], body["last_page"], len(body["data"])) == (22, 20, 2, 20)
    assert body["data"][0]["order_number"] == 22             # newest first
    page2 = await edge.fetch("GET", "/pos/orders?page=2", token=waiter)
    assert len(page2.body["data"]) == 2 and page2.body["prev_page_url"]
    drafts = await edge.fetch("GET", "/pos/orders?status=paid", token=waiter)
    assert drafts.body["total"] == 0
    bad = await edge.fetch("GET", "/pos/orders?date_from=yesterday", token=waiter)
    assert bad.status == 422


async def test_another_branch_order_is_404(edge, start_node, demo):
    airport = await start_node("edge", "Airport")
    token = await airport.login("airport.waiter@demo.test")
    resp = await airport.fetch("POST", "/pos/orders", {
        "order_type": "pickup", "items": [{"id": demo["items"]["Airport"]["Espresso"]}]},
        token=token)
    assert resp.status == 201
    owner_downtown = await edge.login("owner@demo.test")
    # The order does not exist at the Downtown edge, and Downtown tokens never see Airport rows.
    missing = await edge.fetch("GET", "/pos/orders/%d" % resp.body["order"]["id"],
                               token=owner_downtown)
    assert missing.status == 404 and missing.body["success"] is False
