"""Story 3 of SCENARIOS.md, for every create route: a tablet whose answer was lost
retries; with the request's own uuid in the body (what the module's clients send) and no
Idempotency-Key header, the retry gets the first answer and nothing is done twice."""

from protocol import models

D = "Downtown"


async def _order(edge, token, demo, **extra):
    created = await edge.fetch("POST", "/pos/orders", dict({
        "order_type": "pickup", "items": [{"id": demo["items"][D]["Garlic Bread"]}]}, **extra),
        token=token)
    assert created.status == 201, created
    return created.body["order"]


async def _twice(edge, token, path, body):
    first = await edge.fetch("POST", path, body, token=token)
    again = await edge.fetch("POST", path, body, token=token)
    assert first.status in (200, 201), first
    assert (again.status, again.body) == (first.status, first.body)
    return first


def _count(edge, model, *where):
    return edge.node.store.call(lambda: model.select().where(*where).count())


async def test_payments_splits_tips_and_kitchen_sends_happen_once(edge, waiter, demo):
    order = await _order(edge, waiter, demo)
    await _twice(edge, waiter, "/pos/orders/%d/kot" % order["id"], {"uuid": "kot-1"})
    assert _count(edge, models.Kot, models.Kot.order == order["id"]) == 1
    await _twice(edge, waiter, "/pos/orders/%d/tip" % order["id"],
                 {"amount": 2, "uuid": "tip-1"})
    await _twice(edge, waiter, "/pos/orders/%d/split-payments" % order["id"],
                 {"amount": 3, "payment_method": "card", "uuid": "split-1"})
    await _twice(edge, waiter, "/pos/orders/%d/pay" % order["id"],
                 {"method": "cash", "uuid": "pay-1"})
    assert _count(edge, models.Payment, models.Payment.order == order["id"]) == 2


async def test_customers_addresses_and_reservations_are_made_once(edge, waiter, demo):
    customer = await _twice(edge, waiter, "/pos/customers", {
        "name": "Ada Lovelace", "phone_code": "+1", "phone": "5550199",
        "uuid": "cust-1"})
    customer_id = customer.body["customer"]["id"]
    await _twice(edge, waiter, "/customer-addresses", {
        "customer_id": customer_id, "address": "12 Analytical Row", "uuid": "addr-1"})
    assert _count(edge, models.CustomerAddress,
                  models.CustomerAddress.customer == customer_id) == 1
    await _twice(edge, waiter, "/pos/reservations", {
        "table_id": demo["tables"][D]["T8"], "reservation_date_time": "2031-05-28 19:00",
        "party_size": 2, "name": "Ada Lovelace", "phone": "+12125550111", "uuid": "res-1"})
    assert _count(edge, models.Reservation, models.Reservation.name == "Ada Lovelace") == 1


async def test_the_same_uuid_with_another_request_is_a_422(edge, waiter, demo):
    order = await _order(edge, waiter, demo)
    path = "/pos/orders/%d/split-payments" % order["id"]
    first = await edge.fetch("POST", path, {"amount": 1, "payment_method": "card",
                                            "uuid": "same"}, token=waiter)
    assert first.status == 200, first
    other = await edge.fetch("POST", path, {"amount": 2, "payment_method": "card",
                                            "uuid": "same"}, token=waiter)
    assert other.status == 422 and "Idempotency-Key" in other.body["errors"], other
    assert _count(edge, models.Payment, models.Payment.order == order["id"]) == 1
