"""Stories 1 and 3 of SCENARIOS.md: a full shift at one table, and tablets racing."""

import asyncio

from protocol import models

D = "Downtown"


async def test_a_full_shift_at_one_table(edge, demo):
    waiter = await edge.login("waiter@demo.test")
    chef = await edge.login("chef@demo.test")
    items = demo["items"][D]
    table = demo["tables"][D]["T4"]

    # Open the table with a first round, sent to the kitchen.
    created = await edge.fetch("POST", "/pos/orders", {
        "order_type": "Dine In", "table_id": table, "pax": 2, "actions": ["kot"],
        "items": [{"id": items["Garlic Bread"], "quantity": 1},
                  {"id": items["Grilled Salmon"], "quantity": 2, "note": "no butter"}]},
        token=waiter)
    assert created.status == 201, created
    order = created.body["order"]
    first_kots = created.body["kot_ids"]
    assert len(first_kots) == 1                       # both are Kitchen items

    tables = await edge.fetch("GET", "/pos/tables?status=running", token=waiter)
    assert [t["id"] for t in tables.body["tables"]] == [table]

    # A round of drinks: a new KOT with only the new line, at the Bar.
    more = await edge.fetch("PUT", "/pos/orders/%d/items" % order["id"], {"items": [
        {"action": "add", "menu_item_id": items["Craft IPA"], "quantity": 2}]}, token=waiter)
    assert more.status == 200, more
    assert len(more.body["data"]["kot_ids"]) == 1
    kots = await edge.fetch("GET", "/pos/orders/%d/kots" % order["id"], token=waiter)
    assert kots.body["meta"]["total_kots"] == 2
    sent = sorted((i["name"], i["quantity"]) for k in kots.body["data"] for i in k["items"])
    assert sent == [("Craft IPA", 2), ("Garlic Bread", 1), ("Grilled Salmon", 2)]

    # The kitchen bumps every item of the first ticket to ready.
    display = await edge.fetch("GET", "/pos/kots?status=in_kitchen", token=chef)
    kitchen_ticket = next(k for k in display.body["data"] if k["id"] == first_kots[0])
    for item in kitchen_ticket["items"]:
        bumped = await edge.fetch("PUT", "/pos/kot-items/%d/status" % item["id"],
                                  {"status": "ready"}, token=chef)
        assert bumped.status == 200, bumped
    ticket = await edge.fetch("GET", "/pos/kots/%d" % first_kots[0], token=chef)
    assert ticket.body["data"]["status"] == "food_ready"

    # Bill, then split the payment: part cash (with change), the rest by card.
    billed = await edge.fetch("PUT", "/pos/orders/%d" % order["id"], {"actions": ["bill"]},
                              token=waiter)
    assert billed.status == 200 and billed.body["order"]["status"] == "billed"
    total = billed.body["order"]["total"]
    # 6.50 + 2 x 22.00 + 2 x 7.50 = 65.50; taxes 11.375% = 5.81 + 1.64; service 6.55
    assert billed.body["order"]["sub_total"] == 65.5 and total == 79.5
    cash = await edge.fetch("POST", "/pos/orders/%d/split-payments" % order["id"],
                            {"amount": 40, "payment_method": "cash", "status": "paid"},
                            token=waiter, headers={"Idempotency-Key": "shift-cash"})
    assert cash.status == 200 and cash.body["amount_due"] == 39.5
    card = await edge.fetch("POST", "/pos/orders/%d/pay" % order["id"],
                            {"method": "card"}, token=waiter,
                            headers={"Idempotency-Key": "shift-card"})
    assert card.status == 200 and card.body["status"] == "paid"
    assert card.body["amount"] == 39.5

    # The table is free and the order shows both payments.
    tables = await edge.fetch("GET", "/pos/tables", token=waiter)
    row = next(t for t in tables.body["tables"] if t["id"] == table)
    assert row["available_status"] == "available" and not row["is_locked"]
    shown = await edge.fetch("GET", "/pos/orders/%d" % order["id"], token=waiter)
    assert shown.body["status"] == "paid"
    assert shown.body["financials"]["amount_paid"] == total
    methods = edge.node.store.call(lambda: sorted(
        (p.payment_method, str(p.amount)) for p in
        models.Payment.select().where(models.Payment.order == order["id"])))
    assert methods == [("card", "39.50"), ("cash", "40.00")]


async def test_twenty_tablets_race_for_one_free_table(edge, demo):
    emails = ["waiter@demo.test", "waiter2@demo.test", "manager@demo.test", "owner@demo.test"]
    tokens = [await edge.login(e) for e in emails]
    table = demo["tables"][D]["T1"]
    body = {"order_type": "Dine In", "table_id": table, "actions": ["kot"],
            "items": [{"id": demo["items"][D]["Espresso"]}]}
    answers = await asyncio.gather(*[
        edge.fetch("POST", "/pos/orders", body, token=tokens[i % len(tokens)])
        for i in range(20)])
    statuses = sorted(a.status for a in answers)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 403, 409}
    assert all(a.body["success"] is False for a in answers if a.status != 201)
    orders_on_table = edge.node.store.call(lambda: models.Order.select().where(
        models.Order.table == table).count())
    kots = edge.node.store.call(lambda: models.Kot.select().count())
    assert orders_on_table == 1 and kots == 1
