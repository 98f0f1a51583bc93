"""An order as companion apps parse it (RESPONSES.md): its lines with their
modifiers, charges, taxes, customer, table, financials and cart (``order_shape``),
and the answer to creating one (``created_answer``). Amounts are in them as the
floats the wire writes (``wire.amount``): shapes are answers, never figures to add up.
"""

from . import customers, models, pricing
from .money import ZERO
from .wire import amount


class Parts:
    """An order's lines, modifiers, taxes, charges, customer and table: given by the
    operation that just wrote them, or read from the database."""

    def __init__(self, order, *, items=None, modifiers=None, taxes=None, charges=None,
                 customer=None, table=None):
        if items is None:
            items = list(models.OrderItem.select().where(models.OrderItem.order == order.id)
                         .order_by(models.OrderItem.id))
            modifiers = list(models.OrderItemModifier.select().where(
                models.OrderItemModifier.order_item.in_([r.id for r in items])))
        if taxes is None:
            taxes = list(models.OrderTax.select().where(models.OrderTax.order == order.id)
                         .order_by(models.OrderTax.id))
        if charges is None:
            charges = list(models.OrderCharge.select().where(
                models.OrderCharge.order == order.id).order_by(models.OrderCharge.id))
        if customer is None and order.customer_id:
            customer = models.Customer.get_or_none(models.Customer.id == order.customer_id)
        if table is None and order.table_id:
            table = models.Table.get_or_none(models.Table.id == order.table_id)
        self.items, self.modifiers, self.taxes, self.charges = items, modifiers, taxes, charges
        self.customer, self.table = customer, table


def _item_shapes(order, parts):
    mods = {}
    for mod in parts.modifiers:
        mods.setdefault(mod.order_item_id, []).append(
            {"id": mod.id, "modifier_option_id": mod.modifier_option_id, "name": mod.name,
             "price": amount(mod.price)})
    return [{
        "id": r.id, "order_id": order.id, "menu_item_id": r.menu_item_id,
        "variation_id": r.variation_id, "name": r.name, "quantity": r.quantity,
        "price": amount(r.price), "modifiers_total": amount(r.modifiers_total),
        "amount": amount(r.amount), "tax_amount": amount(r.tax_amount),
        "tax_percentage": amount(r.tax_percentage),
        "tax_breakup": r.tax_breakup or [], "note": r.note, "kot_quantity": r.kot_quantity,
        "modifiers": mods.get(r.id, []),
    } for r in parts.items]


def order_shape(order, parts=None):
    parts = parts or Parts(order)
    items = _item_shapes(order, parts)
    charges = [{"id": c.id, "charge_id": c.charge_id, "name": c.name,
                "amount": amount(c.amount)} for c in parts.charges]
    taxes = [{"id": t.id, "tax_id": t.tax_id, "name": t.name, "percent": amount(t.percent),
              "amount": amount(t.amount)} for t in parts.taxes]
    customer, table = parts.customer, parts.table
    restaurant_inclusive = pricing.book(order.branch_id).tax_inclusive
    amount_due = amount(max(ZERO, order.total - order.amount_paid))
    # Each amount once, as the float the wire writes (wire.amount): most appear twice.
    sub_total, discount_amount = amount(order.sub_total), amount(order.discount_amount)
    tax_total, charges_total = amount(order.tax_total), amount(order.charges_total)
    delivery_fee, tip_amount = amount(order.delivery_fee), amount(order.tip_amount)
    total, amount_paid = amount(order.total), amount(order.amount_paid)
    summary = {
        "sub_total": sub_total, "discount_amount": discount_amount,
        "tax_total": tax_total, "tax_inclusive": bool(restaurant_inclusive),
        "charges_total": charges_total, "delivery_fee": delivery_fee,
        "tip_amount": tip_amount, "grand_total": total,
    }
    return {
        "id": order.id, "uuid": order.uuid, "branch_id": order.branch_id,
        "order_number": order.order_number,
        "formatted_order_number": order.formatted_order_number,
        "token_number": order.token_number, "status": order.status,
        "order_status": order.order_status, "placed_via": order.placed_via,
        "order_type": order.order_type_name, "order_type_id": order.order_type_id,
        "date_time": order.date_time, "table_id": order.table_id,
        "customer_id": order.customer_id, "waiter_id": order.waiter_id, "pax": order.pax,
        "delivery_address": order.delivery_address, "delivery_time": order.delivery_time,
        "delivery_executive_id": order.delivery_executive_id,
        "delivery_app_id": order.delivery_app_id, "note": order.note,
        "sub_total": sub_total, "tax_total": tax_total, "total": total,
        "amount_paid": amount_paid, "amount_due": amount_due,
        "tip_amount": tip_amount,
        "financials": {
            "sub_total": sub_total, "discount_type": order.discount_type,
            "discount_value": amount(order.discount_value), "discount_amount": discount_amount,
            "delivery_fee": delivery_fee, "tax_total": tax_total,
            "charges_total": charges_total, "tip_amount": tip_amount,
            "total": total, "amount_paid": amount_paid, "amount_due": amount_due,
        },
        "items": items, "charges": charges, "taxes": taxes,
        "customer": customers.shape(customer),
        "table": {"id": table.id, "table_code": table.table_code} if table else None,
        "cart": {"items": items, "charges": charges, "taxes": taxes, "summary": summary},
        "created_at": order.created_at, "updated_at": order.updated_at,
    }


def created_answer(order, kot_ids, replay=False, parts=None):
    shaped = order_shape(order, parts)
    return {"success": True,
            "message": "Order already created." if replay else "Order created.",
            "order": shaped, "kot_ids": kot_ids, "cart": shaped["cart"]}
