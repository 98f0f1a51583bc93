"""The same shift on a cloud over SQLite and a cloud over PostgreSQL answers the
same, figure for figure: money, ids, times (the branch's zone is New York, the
shift runs across its midnight) and text (sorting, searching, non-ASCII names).

Both clouds start from the same demo restaurant, on the same fake clock; every
answer of the shift is recorded and the two records are compared whole. Ids are
compared by what they refer to: a cloud on PostgreSQL takes its ids in blocks
(protocol/ids.py), so a new row's number differs, but every id is an integer of
the cloud's range below 2^53, and the same rows are named in the same places.
"""

import re

from protocol import models
from protocol.clock import FakeClock
from test_cash_register import CASH, new_register, open_on, pay, pickup
from test_permissions import CASHIER, add_cashier

D = "Downtown"
# 2026-11-30 04:30 UTC: 23:30 the day before in New York, the demo's branches' zone.
START = 1_796_013_000.0
NAMES = ["Émile Zola", "emile zola", "apple Tart", "Zoë Ångström", "ZED 😀", "Ōsaka Ramen",
         "O'Brien", "zoe", "Élodie_50%"]


RANDOM = {"uuid"}       # keys whose values are random by design, not stored figures


class Ids:
    """Ids (integers of a node's range) named by the order they first appear in."""

    def __init__(self):
        self.names = {}

    def __call__(self, row_id):
        assert (1 << 40) <= row_id < 2 ** 53
        return self.names.setdefault(row_id, "id-%d" % len(self.names))

    def text(self, text):
        return re.sub(r"\d{13,}", lambda m: self(int(m.group())), text)


def figures(value, ids, url=None):
    """An answer with its random values blanked, ids named by ``ids``, and the
    server's URL (its port) left out."""
    if isinstance(value, dict):
        return {k: "<random>" if k in RANDOM else figures(v, ids, url)
                for k, v in value.items()}
    if isinstance(value, list):
        return [figures(v, ids, url) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1 << 40:
        return ids(value)
    if isinstance(value, str):
        return ids.text(value.replace(url, "<server>") if url else value)
    return value


def differences(a, b, where=""):
    """(where, a's value, b's value) of every leaf that differs."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            yield from differences(a.get(key), b.get(key), "%s.%s" % (where, key))
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        for n, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, "%s[%d]" % (where, n))
    elif a != b:
        yield where, a, b


class Recorder:
    def __init__(self, server):
        self.server = server
        self.answers = []
        self.ids = Ids()

    async def __call__(self, method, path, body=None, *, token, expect=None, **kwargs):
        resp = await self.server.fetch(method, path, body, token=token, **kwargs)
        if expect is not None:
            assert resp.status == expect, (method, path, resp)
        self.answers.append((method, self.ids.text(path),
                             resp.status, figures(resp.body, self.ids, self.server.url)))
        return resp.body


async def shift(server, demo, clock):
    """A cash shift, a dine-in table's evening, customers and lists; every answer."""
    call = Recorder(server)
    add_cashier(server, demo)
    cashier, manager = await server.login(CASHIER), await server.login("manager@demo.test")
    waiter, chef = await server.login("waiter@demo.test"), await server.login("chef@demo.test")
    items, tables = demo["items"][D], demo["tables"][D]

    register = await new_register(server, manager)
    for name, value, kind in (("Fifty", 50, "note"), ("Five", 5, "note"),
                              ("Ten cents", 0.10, "coin")):
        await call("POST", CASH + "/denominations", {"name": name, "value": value,
                                                     "type": kind}, token=manager, expect=201)
    session = (await open_on(server, cashier, register, 100)).body["data"]
    a, b = await pickup(server, cashier, demo, 6), await pickup(server, cashier, demo, 3)
    call.answers.append(("pickups", "", 201, figures([a, b], call.ids)))
    call.answers.append(("paid", "", 200, figures([await pay(server, cashier, a, "cash", 120),
                                                   await pay(server, cashier, b, "card")],
                                                  call.ids)))
    clock.advance(45 * 60)          # past midnight in New York: a new day's numbers
    await call("POST", "/pos/orders/%d/status" % a["id"], {"status": "cancelled"},
               token=cashier, expect=200)
    for kind, amount in (("cash-in", 50.05), ("cash-out", 20), ("safe-drop", 33.33)):
        await call("POST", CASH + "/transactions/" + kind, {"amount": amount, "reason": kind},
                   token=cashier, expect=201)
    await call("GET", CASH + "/sessions/%d/summary" % session["id"], token=cashier,
               expect=200)
    await call("GET", CASH + "/sessions/%d/transactions" % session["id"], token=cashier,
               expect=200)

    # A table's evening: two rounds, the kitchen, the bill split cash and card.
    created = await call("POST", "/pos/orders", {
        "order_type": "Dine In", "table_id": tables["T4"], "pax": 3, "actions": ["kot"],
        "items": [{"id": items["Garlic Bread"], "quantity": 1},
                  {"id": items["Grilled Salmon"], "quantity": 2, "note": "no butter ✓"}]},
        token=waiter, expect=201)
    order = created["order"]
    await call("PUT", "/pos/orders/%d/items" % order["id"], {"items": [
        {"action": "add", "menu_item_id": items["Craft IPA"], "quantity": 3}]},
        token=waiter, expect=200)
    clock.advance(20 * 60)
    for ticket in (await call("GET", "/pos/kots?status=in_kitchen", token=chef))["data"]:
        for item in ticket["items"]:
            await call("PUT", "/pos/kot-items/%d/status" % item["id"], {"status": "ready"},
                       token=chef, expect=200)
    await call("PUT", "/pos/orders/%d" % order["id"], {"actions": ["bill"]}, token=waiter,
               expect=200)
    await call("POST", "/pos/orders/%d/split-payments" % order["id"],
               {"amount": 40.01, "payment_method": "cash", "status": "paid"}, token=waiter,
               expect=200)
    await call("POST", "/pos/orders/%d/pay" % order["id"], {"method": "card"}, token=waiter,
               expect=200)
    await call("GET", "/pos/orders/%d" % order["id"], token=waiter, expect=200)

    # Customers with names that sort and fold differently in many databases.
    for n, name in enumerate(NAMES):
        clock.advance(1)
        await call("POST", "/pos/customers", {"name": name, "phone_code": "1", "phone": "212555%04d" % n},
                   token=waiter, expect=200)
    for term in ("emile", "ÉMILE", "Zo", "zo", "50%", "_", "😀", "o'b"):
        await call("GET", "/pos/customers?search=" + term, token=waiter)

    clock.advance(3600)
    await call("POST", CASH + "/sessions/%d/close" % session["id"], {"counted_cash": 79.9},
               token=cashier, expect=200)
    await call("GET", CASH + "/reports/daily", token=manager, expect=200)
    await call("GET", "/pos/orders", token=manager, expect=200)
    await call("GET", "/pos/orders?search=Order", token=manager)
    await call("GET", "/pos/tables", token=waiter, expect=200)

    def stored():
        c = models.Customer
        by_name = [r.name for r in c.select(c.name).order_by(c.name, c.id)]
        accents = [r.name for r in c.select(c.name).where(c.name.contains("É"))
                   .order_by(c.id)]
        money = [(p.payment_method, str(p.amount), p.created_at.isoformat())
                 for p in models.Payment.select().order_by(models.Payment.id)]
        return by_name, accents, money
    call.answers.append(("stored", "", 0, figures(server.node.store.call(stored), call.ids)))
    return call.answers


async def test_the_same_shift_on_sqlite_and_on_postgresql(start_node, demo,
                                                          postgres_cloud_database):
    records = {}
    for name, url in (("sqlite", ""), ("postgresql", postgres_cloud_database)):
        clock = FakeClock(start=START)
        server = await start_node("cloud", name="cloud-" + name, clock=clock,
                                  database_url=url)
        records[name] = await shift(server, demo, clock)
        await server.close()
    sqlite, postgresql = records["sqlite"], records["postgresql"]
    assert len(sqlite) == len(postgresql) > 40
    for on_sqlite, on_postgresql in zip(sqlite, postgresql):
        assert on_sqlite == on_postgresql, list(differences(on_sqlite, on_postgresql))
    # ...and the figures are the right ones, not only the same.
    summary = next(body for method, path, _, body in sqlite if path.endswith("/summary"))
    cash = summary["data"]["totals"]
    assert cash["cash_in"] == 50.05 and cash["safe_drops"] == 33.33
    by_name, accents, _ = sqlite[-1][3]
    assert by_name == sorted(by_name) and set(NAMES) <= set(by_name)   # code point order
    assert accents == ["Émile Zola", "Élodie_50%"]
