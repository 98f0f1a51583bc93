"""The demo restaurant: what cloud.demo_data.seed() puts in an empty database.

Each test seeds its own fresh database (the session-wide ``seeded`` of
conftest.py is a copy template for servers; these tests check the seed itself)."""

from decimal import Decimal

import peewee
import pytest

from cloud import demo, demo_data
from protocol import models
from protocol.database import open_sqlite
from protocol.store import Store
from sync.startup import SCHEMA
from protocol.passwords import hash_password, verify_password

BRANCHES = ("Downtown", "Airport")

LOGINS = {   # email -> role, branches (the first is the current one)
    "owner@demo.test": ("owner", ["Downtown", "Airport"]),
    "manager@demo.test": ("manager", ["Downtown"]),
    "waiter@demo.test": ("waiter", ["Downtown"]),
    "airport.waiter@demo.test": ("waiter", ["Airport"]),
    "chef@demo.test": ("chef", ["Downtown"]),
    "rider@demo.test": ("delivery", ["Downtown"]),
    "waiter2@demo.test": ("waiter", ["Downtown"]),
    "airport.manager@demo.test": ("manager", ["Airport"]),
}

# scrypt is slow on purpose; the tests that do not log in share one hash.
FAST_HASH = hash_password("not-the-demo-password")


@pytest.fixture
def fresh_store(tmp_path):
    store = Store(open_sqlite(str(tmp_path / "demo.db")), node_id=1).open(SCHEMA)
    yield store
    store.close()


@pytest.fixture
def fresh(fresh_store):
    return fresh_store, fresh_store.call(demo_data.seed, password_hash=FAST_HASH)


def count(model, *where):
    query = model.select()
    for condition in where:
        query = query.where(condition)
    return query.count()


def test_restaurant_and_branches(fresh):
    store, summary = fresh

    def check():
        restaurant = models.Restaurant.get_by_id(summary["restaurant_id"])
        assert restaurant.name == "Branchline Bistro"
        assert (restaurant.currency_code, restaurant.currency_symbol,
                restaurant.currency_decimals) == ("USD", "$", 2)
        assert (restaurant.tax_mode, restaurant.tax_inclusive) == ("order", False)
        assert restaurant.table_lock_timeout_minutes == 10
        names = {b.name: b.id for b in models.Branch.select()}
        assert names == summary["branches"]
        assert set(names) == set(BRANCHES)
        assert count(models.Tax) == 2
        assert {t.tax_name: t.tax_percent for t in models.Tax.select()} == {
            "State Tax": Decimal("8.875"), "City Tax": Decimal("2.5")}
        charges = {c.charge_name: c for c in models.ExtraCharge.select()}
        assert set(charges) == {"Service Charge", "Packaging Fee"}
        assert charges["Service Charge"].charge_type == "percent"
        assert charges["Service Charge"].order_types == ["dine_in"]
        assert charges["Packaging Fee"].charge_value == Decimal("1.50")
        assert sorted(charges["Packaging Fee"].order_types) == ["delivery", "pickup"]
    store.call(check)


@pytest.mark.parametrize("branch_name", BRANCHES)
def test_catalog_per_branch(fresh, branch_name):
    store, summary = fresh
    branch_id = summary["branches"][branch_name]

    def check():
        assert count(models.Menu, models.Menu.branch == branch_id) == 3
        assert count(models.ItemCategory, models.ItemCategory.branch == branch_id) == 6
        items = list(models.MenuItem.select().where(models.MenuItem.branch == branch_id))
        assert len(items) >= 30
        assert {i.type for i in items} == {"veg", "non-veg", "egg", "drink", "other", "halal"}
        assert all(i.description for i in items)
        assert all(i.menu.branch_id == branch_id and i.item_category.branch_id == branch_id
                   for i in items)
        bar = models.KotPlace.get(models.KotPlace.branch == branch_id,
                                  models.KotPlace.name == "Bar")
        assert all(i.kot_place_id == bar.id for i in items if i.type == "drink")

        order_types = {t.slug: t for t in models.OrderType.select()
                       .where(models.OrderType.branch == branch_id)}
        assert {slug: (t.order_type_name, t.type) for slug, t in order_types.items()} == {
            "dine_in": ("Dine In", "dine_in"), "delivery": ("Delivery", "delivery"),
            "pickup": ("Pickup", "pickup")}
        assert order_types["pickup"].uses_token_number

        differs = 0
        for item in items:
            prices = {(p.variation_id, p.order_type_id): p.final_price for p in item.prices}
            for variation_id in [None] + [v.id for v in item.variations]:
                by_type = {slug: prices[(variation_id, t.id)]
                           for slug, t in order_types.items()}
                assert all(isinstance(p, Decimal) for p in by_type.values())
                differs += by_type["dine_in"] != by_type["delivery"]
            assert {t.tax.tax_name for t in item.item_taxes} == {"State Tax", "City Tax"}
        assert differs > 0

        with_variations = [i for i in items if i.variations.count()]
        with_modifiers = [i for i in items if i.item_modifiers.count()]
        assert len(with_variations) >= 3 and len(with_modifiers) >= 3
        pivots = {(m.modifier_group.name, m.is_required, m.allow_multiple_selection)
                  for i in with_modifiers for m in i.item_modifiers}
        assert ("Extra toppings", False, True) in pivots
        assert ("Spice level", True, False) in pivots
        spice = models.ModifierGroup.get(models.ModifierGroup.branch == branch_id,
                                         models.ModifierGroup.name == "Spice level")
        assert all(o.price == 0 for o in spice.options)
        assert (models.ModifierOptionPrice.select().join(models.OrderType)
                .where(models.OrderType.branch == branch_id).count()) > 0
    store.call(check)


@pytest.mark.parametrize("branch_name", BRANCHES)
def test_floor_and_settings_per_branch(fresh, branch_name):
    store, summary = fresh
    branch_id = summary["branches"][branch_name]

    def check():
        areas = {a.area_name: a
                 for a in models.Area.select().where(models.Area.branch == branch_id)}
        assert set(areas) == {"Main Hall", "Terrace"}
        tables = list(models.Table.select().where(models.Table.branch == branch_id))
        assert len(tables) == 12
        assert {t.area_id for t in tables} == {a.id for a in areas.values()}
        assert all(2 <= t.seating_capacity <= 8 for t in tables)
        assert summary["tables"][branch_name] == {t.table_code: t.id for t in tables}
        places = {p.name: p for p in models.KotPlace.select()
                  .where(models.KotPlace.branch == branch_id)}
        assert (places["Kitchen"].type, places["Kitchen"].is_default) == ("food", True)
        assert places["Bar"].type == "drink"
        assert count(models.DeliveryPlatform, models.DeliveryPlatform.branch == branch_id) >= 2
        assert count(models.DeliveryExecutive, models.DeliveryExecutive.branch == branch_id) == 2
        setting = models.OrderNumberSetting.get(models.OrderNumberSetting.branch == branch_id)
        assert (setting.prefix, setting.separator, setting.include_date, setting.date_format,
                setting.digits, setting.reset_daily) == ("ORD", "-", True, "Ymd", 3, False)
        assert count(models.ReceiptSetting, models.ReceiptSetting.branch == branch_id) == 1
        assert count(models.Printer, models.Printer.branch == branch_id) >= 1
    store.call(check)


def test_restaurant_wide_settings(fresh):
    store, summary = fresh

    def check():
        reasons = {r.reason: (r.cancel_order, r.cancel_kot)
                   for r in models.KotCancelReason.select()}
        assert reasons["Customer changed mind"] == (False, True)
        assert reasons["Order cancelled by customer"][0] is True
        assert "Out of stock" in reasons
        assert {(l.code, l.is_rtl) for l in models.Language.select()} == {
            ("en", False), ("es", False), ("ar", True)}
        assert models.Currency.get().currency_code == "USD"
        gateways = {g.name: g for g in models.PaymentGateway.select()}
        assert set(gateways) == {"stripe", "razorpay"}
        assert all(g.secret for g in gateways.values())
        assert count(models.Permission) >= 20
        roles = {r.name: r for r in models.Role.select()}
        assert set(roles) == {"owner", "admin", "manager", "cashier", "waiter", "chef",
                              "delivery"}
        everything = count(models.Permission)
        for name, role in roles.items():
            granted = role.role_permissions.count()
            if name in ("owner", "admin"):
                assert granted == everything
            else:
                assert 0 < granted < everything
        customers = list(models.Customer.select())
        assert len(customers) >= 3
        addresses = list(models.CustomerAddress.select())
        assert addresses and all(isinstance(a.lat, Decimal) for a in addresses)
    store.call(check)


def test_logins(fresh):
    store, summary = fresh

    def check():
        for email, (role, branches) in LOGINS.items():
            user = models.User.get(models.User.email == email)
            assert summary["users"][email] == user.id
            assert [r.role.name for r in user.user_roles] == [role]
            assert user.branch_id == summary["branches"][branches[0]]
            assert ({ub.branch_id for ub in user.user_branches}
                    == {summary["branches"][b] for b in branches})
            assert user.password_hash == FAST_HASH
        assert all(u.email == u.email.lower() for u in models.User.select())
    store.call(check)


def test_default_password_is_hashed_once(fresh_store):
    store = fresh_store
    summary = store.call(demo_data.seed)

    def hashes():
        return {u.password_hash for u in models.User.select()}
    (stored,) = store.call(hashes)
    assert verify_password("demo12345", stored)
    assert len(summary["users"]) == len(demo_data.USERS)


def test_seed_is_one_transaction(fresh_store):
    store = fresh_store
    store.call(demo_data.seed, password_hash=FAST_HASH)
    # A second seed collides (unique restaurant-wide rows) and leaves nothing behind.
    with pytest.raises(peewee.IntegrityError):
        store.call(demo_data.seed, password_hash=FAST_HASH)
    assert store.call(lambda: models.Restaurant.select().count()) == 1


def test_downtown_delivers_and_each_rider_has_a_login_code(fresh):
    store, summary = fresh

    def check():
        downtown = summary["branches"]["Downtown"]
        setting = models.DeliverySetting.get(models.DeliverySetting.branch == downtown)
        assert (setting.is_enabled, setting.unit, setting.max_radius, setting.fee_type,
                setting.free_delivery_over_amount) == (True, "km", Decimal("6"), "tiered",
                                                       Decimal("75.00"))
        assert (setting.branch_lat, setting.branch_lng) == (Decimal("40.7087"),
                                                            Decimal("-74.0128"))
        tiers = [(t.min_distance, t.max_distance, t.fee) for t in models.DeliveryFeeTier.select()
                 .where(models.DeliveryFeeTier.branch == downtown)
                 .order_by(models.DeliveryFeeTier.min_distance)]
        assert tiers == [(0, 2, Decimal("2.99")), (2, 4, Decimal("4.99")),
                         (4, 6, Decimal("6.99"))]
        codes = summary["rider_codes"]
        assert set(codes["Downtown"]) == {"Marcus Reed", "Priya Nair"}
        for branch, riders in codes.items():
            for name, code in riders.items():
                rider = models.DeliveryExecutive.get_by_id(
                    summary["delivery_executives"][branch][name])
                assert code not in rider.login_code_hash
                assert verify_password(code, rider.login_code_hash)
                assert rider.login_code_hint == code[:2]
        every = [c for riders in codes.values() for c in riders.values()]
        assert len(set(every)) == len(every) == 4
    store.call(check)


def test_the_demo_prints_each_riders_code_once(fresh, capsys):
    _, summary = fresh
    state = {"branches": summary["branches"], "rider_codes": summary["rider_codes"]}
    commands = [("cloud", "http://127.0.0.1:8800", None),
                ("Downtown edge", "http://127.0.0.1:8700", None)]
    demo.print_welcome(commands, state, {"cloud": "k1", "Downtown edge": "k2"})
    out = capsys.readouterr().out
    for riders in summary["rider_codes"].values():
        for name, code in riders.items():
            assert out.count(code) == 1 and name in out
    assert "/partner/auth/login" in out
