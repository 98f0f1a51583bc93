"""Pricing rules with hand-computed totals (no database, no HTTP)."""

from decimal import Decimal as D

from protocol.pricing import Charge, Line, Modifier, Rate, price

STATE = Rate(1, "State", D("8.875"))
CITY = Rate(2, "City", D("2.5"))


def burger(quantity=2, mods=()):
    return Line(1, None, "Burger", quantity, D("12.50"),
                modifiers=[Modifier(i, "m%d" % i, D(p)) for i, p in mods], taxes=[STATE, CITY])


def check_adds_up(p):
    s = p.summary()
    expected = (s["sub_total"] - s["discount_amount"] + s["charges_total"] + s["delivery_fee"]
                + s["tip_amount"] + (0 if s["tax_inclusive"] else s["tax_total"]))
    assert s["grand_total"] == max(D(0), expected)


def test_modifiers_and_quantity_make_the_line_amount():
    p = price([burger(2, [(5, "1.25"), (6, "0.50")]), Line(2, 9, "Cola (L)", 3, D("2.00"))])
    assert p.lines[0].modifiers_total == D("1.75")
    assert p.lines[0].amount == D("28.50")        # (12.50 + 1.75) * 2
    assert p.sub_total == D("34.50")              # + 3 * 2.00
    assert p.total == D("34.50")
    check_adds_up(p)


def test_percent_discount_then_exclusive_order_taxes_and_charges():
    p = price([burger(2)], order_taxes=[STATE, CITY], discount_type="percentage",
              discount_value=D("10"), charges=[Charge(1, "Service", "percent", D("10")),
                                               Charge(2, "Pack", "fixed", D("1.50"))],
              delivery_fee=D("5"), tip_amount=D("2"))
    # sub 25.00; discount 2.50; discounted 22.50
    assert p.discount_amount == D("2.50")
    # state 22.50 * 8.875% = 1.996875 -> 2.00; city 22.50 * 2.5% = 0.5625 -> 0.56
    assert [a for _, a in p.taxes] == [D("2.00"), D("0.56")]
    assert p.tax_total == D("2.56")
    # service 10% of 22.50 = 2.25; pack 1.50
    assert p.charges_total == D("3.75")
    assert p.total == D("22.50") + D("2.56") + D("3.75") + D("5.00") + D("2.00")
    check_adds_up(p)


def test_fixed_discount_never_exceeds_sub_total():
    p = price([burger(1)], discount_type="fixed", discount_value=D("100"))
    assert p.discount_amount == D("12.50")
    assert p.total == D("0.00")
    check_adds_up(p)


def test_inclusive_item_taxes_are_reported_not_added():
    p = price([burger(2)], tax_mode="item", tax_inclusive=True)
    # amount 25.00 includes 11.375%: base = 25 / 1.11375 = 22.4466...
    # state = 22.4466 * 8.875% = 1.99214 -> 1.99; city = 22.4466 * 2.5% = 0.56117 -> 0.56
    assert p.lines[0].tax_amount == D("2.55")
    assert p.lines[0].tax_percentage == D("11.375")
    assert p.tax_total == D("2.55")
    assert p.total == D("25.00")
    check_adds_up(p)


def test_exclusive_item_taxes_follow_the_discount():
    p = price([burger(2)], tax_mode="item", discount_type="fixed", discount_value=D("5"))
    # discounted 20.00: state 1.775 -> 1.78, city 0.50
    assert p.tax_total == D("2.28")
    assert p.total == D("22.28")
    check_adds_up(p)


def test_inclusive_order_taxes():
    p = price([Line(3, None, "Tea", 1, D("11.14"))], order_taxes=[STATE, CITY],
              tax_inclusive=True)
    # 11.14 / 1.11375 = 10.0022...; state 0.8877 -> 0.89, city 0.25006 -> 0.25
    assert p.tax_total == D("1.14")
    assert p.total == D("11.14")


def test_discount_percent_above_100_is_capped():
    p = price([burger(1)], discount_type="percent", discount_value=D("150"))
    assert p.discount_amount == D("12.50") and p.total == D("0.00")
