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


# --- Catalog lookups ---------------------------------------------------------------

def _order_type_price(menu_item_id, variation_id, order_type_id):
    if order_type_id is None:
        return None
    price_row = models.MenuItemPrice
    same_variation = (price_row.variation.is_null() if variation_id is None
                      else price_row.variation == variation_id)
    row = (price_row.select(price_row.final_price)
           .where((price_row.menu_item == menu_item_id) &
                  (price_row.order_type == order_type_id) & same_variation)
           .first())
    return row.final_price if row else None


def item_price(item, variation, order_type_id):
    """The catalog price of an item (or one of its variations) for an order type."""
    found = _order_type_price(item.id, variation.id if variation else None, order_type_id)
    if found is not None:
        return found
    return variation.price if variation else item.price


def option_price(option, order_type_id):
    if order_type_id is not None:
        row = (models.ModifierOptionPrice.select(models.ModifierOptionPrice.price)
               .where((models.ModifierOptionPrice.modifier_option == option.id) &
                      (models.ModifierOptionPrice.order_type == order_type_id)).first())
        if row is not None:
            return row.price
    return option.price


def _item_taxes(item):
    return [Rate(t.id, t.tax_name, t.tax_percent) for t in
            models.Tax.select().join(models.MenuItemTax)
            .where(models.MenuItemTax.menu_item == item.id).order_by(models.Tax.id)]


def restaurant_taxes(restaurant_id):
    return [Rate(t.id, t.tax_name, t.tax_percent) for t in
            models.Tax.select().where(models.Tax.restaurant == restaurant_id)
            .order_by(models.Tax.id)]


def resolve_line(branch_id, order_type_id, request, field):
    """One requested line (dict with id / menu_item_id, quantity, variation_id,
    modifiers, note) as a Line at catalog prices; errors name ``field``."""
    errors = {}
    item_id = request.get("menu_item_id") or request.get("id")
    item = models.MenuItem.get_or_none((models.MenuItem.id == item_id) &
                                       (models.MenuItem.branch == branch_id))
    if item is None:
        raise ValidationFailed.field(field + ".id", "The selected item is invalid.")
    if not item.is_available:
        raise ValidationFailed.field(field + ".id", "%s is not available." % item.item_name)

    variation = None
    variation_id = request.get("variation_id")
    if variation_id:
        variation = models.MenuItemVariation.get_or_none(
            (models.MenuItemVariation.id == variation_id) &
            (models.MenuItemVariation.menu_item == item.id))
        if variation is None:
            errors[field + ".variation_id"] = ["The selected variation is invalid."]
    elif models.MenuItemVariation.select().where(
            models.MenuItemVariation.menu_item == item.id).exists():
        errors[field + ".variation_id"] = ["Choose a variation of %s." % item.item_name]

    groups = {im.modifier_group_id: im for im in
              models.ItemModifier.select().where(models.ItemModifier.menu_item == item.id)}
    chosen = []
    per_group = {}
    for position, mod in enumerate(request.get("modifiers") or []):
        option_id = mod.get("id") if isinstance(mod, dict) else mod
        option = models.ModifierOption.get_or_none(models.ModifierOption.id == option_id)
        if option is None or option.modifier_group_id not in groups or not option.is_available:
            errors.setdefault("%s.modifiers.%d.id" % (field, position), []).append(
                "The selected modifier is invalid.")
            continue
        per_group.setdefault(option.modifier_group_id, []).append(option)
        chosen.append(Modifier(option.id, option.name, option_price(option, order_type_id)))
    for group_id, link in groups.items():
        picked = per_group.get(group_id, [])
        if link.is_required and not picked:
            name = models.ModifierGroup.get_by_id(group_id).name
            errors.setdefault(field + ".modifiers", []).append(
                "%s is required for %s." % (name, item.item_name))
        if len(picked) > 1 and not link.allow_multiple_selection:
            name = models.ModifierGroup.get_by_id(group_id).name
            errors.setdefault(field + ".modifiers", []).append(
                "Choose one option of %s." % name)
    if errors:
        raise ValidationFailed(errors)

    name = item.item_name + (" (%s)" % variation.variation if variation else "")
    return Line(menu_item_id=item.id, variation_id=variation.id if variation else None,
                name=name, quantity=int(request["quantity"]),
                unit_price=item_price(item, variation, order_type_id), modifiers=chosen,
                taxes=_item_taxes(item), note=request.get("note"))


def applicable_charges(restaurant_id, order_type, requested=None):
    """The restaurant's enabled charges for the order type; ``requested`` (ids or
    {id} objects) narrows them, and a charge that does not apply is a 422."""
    enabled = [c for c in models.ExtraCharge.select().where(
        (models.ExtraCharge.restaurant == restaurant_id) & models.ExtraCharge.is_enabled)
        .order_by(models.ExtraCharge.id)
        if order_type is None or order_type.slug in (c.order_types or [])]
    if requested is not None:
        wanted = []
        for position, entry in enumerate(requested):
            charge_id = entry.get("id") if isinstance(entry, dict) else entry
            match = next((c for c in enabled if c.id == charge_id), None)
            if match is None:
                raise ValidationFailed.field("extra_charges.%d" % position,
                                             "The selected charge does not apply to this order.")
            wanted.append(match)
        enabled = wanted
    return [Charge(c.id, c.charge_name, c.charge_type, c.charge_value) for c in enabled]
