"""Where an order is priced. The server computes every amount; the client's never count.

Two steps:

1. ``resolve_lines`` (database): each requested line becomes a ``Line`` with the
   catalog's unit price for the order type (an order-type price of the item or
   its variation, else the variation's, else the item's), its modifier options
   at their order-type prices, and the item's taxes. Unknown, unavailable or
   mismatched items, variations and options are 422 field errors.
2. ``price`` (pure): the module's rules, in exact Decimal, rounded half-up to
   the cent at each amount a receipt shows:

   - line amount = (unit price + Σ modifier prices) × quantity; sub_total = Σ amounts
   - discount: percent of sub_total, or fixed; never above sub_total
   - taxes on the discounted amount: per order (each restaurant tax on the
     discounted sub-total) or per item (each line's taxes on its share of it);
     exclusive taxes are added, inclusive ones are already in the prices
     (tax = amount - amount / (1 + Σ rate / 100)) and only reported
   - extra charges on the discounted sub-total (percent) or as they are (fixed)
   - total = max(0, discounted + exclusive taxes + charges + delivery fee + tip)

   so ``summary`` always adds up: grand_total = sub_total - discount_amount +
   (tax_total unless tax_inclusive) + charges_total + delivery_fee + tip_amount.
"""

import dataclasses
from decimal import Decimal
from typing import Optional

from . import models
from .store import current_store
from .errors import ValidationFailed
from .money import ZERO, to_money

DISCOUNT_TYPES = {"percent": "percent", "percentage": "percent", "fixed": "fixed",
                  "flat": "fixed", "amount": "fixed"}


@dataclasses.dataclass
class Rate:
    id: Optional[int]
    name: str
    percent: Decimal


@dataclasses.dataclass
class Modifier:
    option_id: int
    name: str
    price: Decimal


@dataclasses.dataclass
class Line:
    menu_item_id: Optional[int]
    variation_id: Optional[int]
    name: str
    quantity: int
    unit_price: Decimal
    modifiers: list = dataclasses.field(default_factory=list)
    taxes: list = dataclasses.field(default_factory=list)     # [Rate] for per-item taxes
    note: Optional[str] = None
    missing: list = dataclasses.field(default_factory=list)   # choices not made, in words
    # Filled by price():
    modifiers_total: Decimal = ZERO
    amount: Decimal = ZERO
    tax_amount: Decimal = ZERO
    tax_percentage: Decimal = Decimal(0)
    tax_breakup: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Charge:
    id: Optional[int]
    name: str
    type: str          # percent | fixed
    value: Decimal


@dataclasses.dataclass
class Priced:
    lines: list
    sub_total: Decimal
    discount_type: Optional[str]
    discount_value: Decimal
    discount_amount: Decimal
    taxes: list        # [(Rate, amount)]
    tax_total: Decimal
    tax_inclusive: bool
    charges: list      # [(Charge, amount)]
    charges_total: Decimal
    delivery_fee: Decimal
    tip_amount: Decimal
    total: Decimal

    def summary(self):
        return {
            "sub_total": self.sub_total,
            "discount_amount": self.discount_amount,
            "tax_total": self.tax_total,
            "tax_inclusive": self.tax_inclusive,
            "charges_total": self.charges_total,
            "delivery_fee": self.delivery_fee,
            "tip_amount": self.tip_amount,
            "grand_total": self.total,
        }


def _inclusive_tax(amount, percent, total_percent):
    """The part of an amount that is this tax, when amount includes all taxes."""
    if total_percent <= 0:
        return ZERO
    base = amount / (1 + total_percent / 100)
    return to_money(base * percent / 100)


def _taxes_on(amount, rates, inclusive):
    total_percent = sum((r.percent for r in rates), Decimal(0))
    result = []
    for rate in rates:
        if inclusive:
            result.append((rate, _inclusive_tax(amount, rate.percent, total_percent)))
        else:
            result.append((rate, to_money(amount * rate.percent / 100)))
    return result


def price(lines, *, tax_mode="order", tax_inclusive=False, order_taxes=(),
          discount_type=None, discount_value=ZERO, charges=(), delivery_fee=ZERO,
          tip_amount=ZERO):
    """Price lines (Line) under the restaurant's rules; returns Priced."""
    sub_total = ZERO
    for line in lines:
        line.modifiers_total = to_money(sum((m.price for m in line.modifiers), ZERO))
        line.amount = to_money((line.unit_price + line.modifiers_total) * line.quantity)
        sub_total += line.amount

    kind = DISCOUNT_TYPES.get((discount_type or "").lower()) if discount_type else None
    discount_value = Decimal(discount_value or 0)
    if kind == "percent":
        discount = to_money(sub_total * min(discount_value, Decimal(100)) / 100)
    elif kind == "fixed" or (kind is None and discount_value > 0):
        kind = "fixed"
        discount = to_money(discount_value)
    else:
        discount = ZERO
    discount = max(ZERO, min(discount, sub_total))
    discounted = sub_total - discount
    share = (discounted / sub_total) if sub_total > 0 else Decimal(0)

    by_tax = {}
    if tax_mode == "item":
        for line in lines:
            line_taxes = _taxes_on(line.amount * share, line.taxes, tax_inclusive)
            line.tax_amount = sum((a for _, a in line_taxes), ZERO)
            line.tax_percentage = sum((r.percent for r in line.taxes), Decimal(0))
            line.tax_breakup = {r.name: {"percent": r.percent, "amount": a}
                                for r, a in line_taxes}
            for rate, amount in line_taxes:
                key = (rate.id, rate.name)
                prev = by_tax.get(key)
                by_tax[key] = (rate, (prev[1] if prev else ZERO) + amount)
        taxes = list(by_tax.values())
    else:
        taxes = _taxes_on(discounted, list(order_taxes), tax_inclusive)
    tax_total = sum((a for _, a in taxes), ZERO)

    charged = []
    for charge in charges:
        if charge.type == "percent":
            charged.append((charge, to_money(discounted * charge.value / 100)))
        else:
            charged.append((charge, to_money(charge.value)))
    charges_total = sum((a for _, a in charged), ZERO)

    delivery_fee = to_money(delivery_fee or 0)
    tip_amount = to_money(tip_amount or 0)
    total = discounted + charges_total + delivery_fee + tip_amount
    if not tax_inclusive:
        total += tax_total
    return Priced(
        lines=lines, sub_total=sub_total, discount_type=kind,
        discount_value=discount_value if kind else Decimal(0), discount_amount=discount,
        taxes=taxes, tax_total=tax_total, tax_inclusive=tax_inclusive, charges=charged,
        charges_total=charges_total, delivery_fee=delivery_fee, tip_amount=tip_amount,
        total=max(ZERO, total))


# --- Catalog lookups: the branch's price book ------------------------------------------

BOOK_TTL_SECONDS = 5.0


@dataclasses.dataclass
class Group:
    id: int
    name: str
    is_required: bool
    allow_multiple: bool


@dataclasses.dataclass
class Item:
    id: int
    name: str
    price: Decimal
    is_available: bool
    kot_place_id: Optional[int]
    variations: dict        # variation id -> (name, price)
    groups: list            # [Group]
    taxes: list             # [Rate]


@dataclasses.dataclass
class Option:
    id: int
    group_id: int
    name: str
    price: Decimal
    is_available: bool


class PriceBook:
    """A branch's catalog as pricing needs it (and the branch settings an order
    reads: the branch row, its order types and order-number settings), read in a
    handful of queries.

    The catalog is head office's (cloud-owned) and changes rarely, so each node
    keeps a branch's book for BOOK_TTL_SECONDS, and whatever writes catalog rows
    (head office, the sync feed) calls ``invalidate()``; an order never reads
    the catalog row by row."""

    def __init__(self, branch_id):
        branch = models.Branch.get_by_id(branch_id)
        restaurant = models.Restaurant.get_by_id(branch.restaurant_id)
        self.branch = branch
        self.branch_id = branch_id
        self.number_setting = (
            models.OrderNumberSetting.get_or_none(models.OrderNumberSetting.branch == branch_id)
            or models.OrderNumberSetting(branch=branch_id))
        self.restaurant_id = restaurant.id
        self.tax_mode = restaurant.tax_mode
        self.tax_inclusive = restaurant.tax_inclusive
        self.require_choices = restaurant.require_item_choices
        self.order_types = list(models.OrderType.select().where(
            (models.OrderType.branch == branch_id) & models.OrderType.is_active)
            .order_by(models.OrderType.sort_order, models.OrderType.id))
        self.restaurant_taxes = [Rate(t.id, t.tax_name, t.tax_percent) for t in
                                 models.Tax.select().where(models.Tax.restaurant == restaurant.id)
                                 .order_by(models.Tax.id)]
        rates = {r.id: r for r in self.restaurant_taxes}
        self.charges = list(models.ExtraCharge.select().where(
            (models.ExtraCharge.restaurant == restaurant.id) & models.ExtraCharge.is_enabled)
            .order_by(models.ExtraCharge.id))

        self.items = {i.id: Item(i.id, i.item_name, i.price, i.is_available, i.kot_place_id,
                                 {}, [], [])
                      for i in models.MenuItem.select().where(models.MenuItem.branch == branch_id)}
        item_ids = list(self.items)
        for v in models.MenuItemVariation.select().where(
                models.MenuItemVariation.menu_item.in_(item_ids)).order_by(
                models.MenuItemVariation.sort_order, models.MenuItemVariation.id):
            self.items[v.menu_item_id].variations[v.id] = (v.variation, v.price)
        for link in (models.ItemModifier.select(models.ItemModifier, models.ModifierGroup)
                     .join(models.ModifierGroup)
                     .where(models.ItemModifier.menu_item.in_(item_ids))
                     .order_by(models.ItemModifier.id)):
            self.items[link.menu_item_id].groups.append(Group(
                link.modifier_group_id, link.modifier_group.name, link.is_required,
                link.allow_multiple_selection))
        for link in models.MenuItemTax.select().where(models.MenuItemTax.menu_item.in_(item_ids)):
            if link.tax_id in rates:
                self.items[link.menu_item_id].taxes.append(rates[link.tax_id])
        self.item_prices = {(p.menu_item_id, p.variation_id, p.order_type_id): p.final_price
                            for p in models.MenuItemPrice.select().where(
                                models.MenuItemPrice.menu_item.in_(item_ids))}
        group_ids = {g.id for item in self.items.values() for g in item.groups}
        self.options = {o.id: Option(o.id, o.modifier_group_id, o.name, o.price, o.is_available)
                        for o in models.ModifierOption.select().where(
                            models.ModifierOption.modifier_group.in_(list(group_ids)))}
        self.option_prices = {(p.modifier_option_id, p.order_type_id): p.price
                              for p in models.ModifierOptionPrice.select().where(
                                  models.ModifierOptionPrice.modifier_option.in_(
                                      list(self.options)))}

    def item_price(self, item_id, variation_id, order_type_id):
        """An item's (or variation's) price for an order type: its order-type price,
        else the variation's price, else the item's. (The one rule; item_price and
        option_price below apply it to model rows.)"""
        found = self.item_prices.get((item_id, variation_id, order_type_id))
        if found is not None:
            return found
        item = self.items[item_id]
        return item.variations[variation_id][1] if variation_id else item.price

    def option_price(self, option_id, order_type_id):
        found = self.option_prices.get((option_id, order_type_id))
        return found if found is not None else self.options[option_id].price

    def charges_for(self, order_type, requested=None):
        """The enabled charges for the order type; ``requested`` (ids or {id}
        objects) narrows them, and a charge that does not apply is a 422."""
        enabled = [c for c in self.charges
                   if order_type is None or order_type.slug in (c.order_types or [])]
        if requested is not None:
            wanted = []
            for position, entry in enumerate(requested):
                charge_id = entry.get("id") if isinstance(entry, dict) else entry
                match = next((c for c in enabled if c.id == charge_id), None)
                if match is None:
                    raise ValidationFailed.field(
                        "extra_charges.%d" % position,
                        "The selected charge does not apply to this order.")
                wanted.append(match)
            enabled = wanted
        return [Charge(c.id, c.charge_name, c.charge_type, c.charge_value) for c in enabled]


def book(branch_id):
    """The branch's PriceBook, from the node's cache while it is fresh."""
    store = current_store()
    cache = store.memo.setdefault("pricebooks", {})
    now = store.clock.monotonic()
    entry = cache.get(branch_id)
    if entry is None or entry[1] <= now:
        entry = (PriceBook(branch_id), now + BOOK_TTL_SECONDS)
        cache[branch_id] = entry
    return entry[0]


def invalidate():
    """Forget every cached price book of this node (call after catalog writes)."""
    current_store().memo.pop("pricebooks", None)


def item_price(item, variation, order_type_id):
    """The catalog price of an item (model row) or one of its variations (row)."""
    found = book(item.branch_id).item_prices.get(
        (item.id, variation.id if variation else None, order_type_id))
    if found is not None:
        return found
    return variation.price if variation else item.price


def option_price(option, order_type_id, branch_id):
    """The price of a modifier option (model row) for an order type."""
    found = book(branch_id).option_prices.get((option.id, order_type_id))
    return found if found is not None else option.price


def restaurant_taxes(branch_id):
    return book(branch_id).restaurant_taxes


def applicable_charges(branch_id, order_type, requested=None):
    return book(branch_id).charges_for(order_type, requested)


def resolve_line(branch_id, order_type_id, request, field):
    """One requested line (dict with id / menu_item_id, quantity, variation_id,
    modifiers, note) as a Line at catalog prices; errors name ``field``. A
    variation or required modifier not chosen is listed in ``missing`` (the line
    is at the item's own price), or refused when the restaurant requires choices."""
    prices = book(branch_id)
    item = prices.items.get(request.get("menu_item_id") or request.get("id"))
    if item is None:
        raise ValidationFailed.field(field + ".id", "The selected item is invalid.")
    if not item.is_available:
        raise ValidationFailed.field(field + ".id", "%s is not available." % item.name)

    errors, missing = {}, []
    variation_id = request.get("variation_id")
    if variation_id:
        if variation_id not in item.variations:
            errors[field + ".variation_id"] = ["The selected variation is invalid."]
            variation_id = None
    elif item.variations:
        missing.append("no variation chosen")
        if prices.require_choices:
            errors[field + ".variation_id"] = ["Choose a variation of %s." % item.name]

    groups = {g.id: g for g in item.groups}
    chosen, per_group = [], {}
    for position, mod in enumerate(request.get("modifiers") or []):
        option = prices.options.get(mod.get("id") if isinstance(mod, dict) else mod)
        if option is None or option.group_id not in groups or not option.is_available:
            errors.setdefault("%s.modifiers.%d.id" % (field, position), []).append(
                "The selected modifier is invalid.")
            continue
        per_group.setdefault(option.group_id, []).append(option)
        chosen.append(Modifier(option.id, option.name,
                               prices.option_price(option.id, order_type_id)))
    for group in item.groups:
        picked = per_group.get(group.id, [])
        if group.is_required and not picked:
            missing.append("no %s chosen" % group.name.lower())
            if prices.require_choices:
                errors.setdefault(field + ".modifiers", []).append(
                    "%s is required for %s." % (group.name, item.name))
        if len(picked) > 1 and not group.allow_multiple:
            errors.setdefault(field + ".modifiers", []).append(
                "Choose one option of %s." % group.name)
    if errors:
        raise ValidationFailed(errors)

    name = item.name + (" (%s)" % item.variations[variation_id][0] if variation_id else "")
    return Line(menu_item_id=item.id, variation_id=variation_id or None, name=name,
                quantity=int(request["quantity"]),
                unit_price=prices.item_price(item.id, variation_id or None, order_type_id),
                modifiers=chosen, taxes=list(item.taxes), note=request.get("note"),
                missing=missing)
