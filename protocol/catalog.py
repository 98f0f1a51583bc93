"""What a POS reads before it takes an order: the catalog and the branch's set-up.

Menus, categories, items (with their order-type prices, variations and modifier
groups), order types, extra charges, taxes, delivery platforms, the user's
restaurant and branches, the order actions and the next order number, in the
shapes of RESPONSES.md "Catalog".

Plain functions, run in a Store thread with the Actor: catalog rows are scoped
to ``actor.branch_id`` (they carry their branch), taxes and extra charges to
``actor.restaurant_id``; another branch's row is "not found". A price for an
order type comes from ``protocol.pricing`` only, so the catalog shows what an
order will charge. An item list loads its variations, prices, modifier groups
and options in five queries whatever its length; pricing adds one look-up per
price only when an order type is asked for.
"""

from peewee import JOIN, fn

from . import models, numbering, orders, pricing
from .errors import NotFound, ValidationFailed

# key -> label, what it does to an order (orders.ACTIONS gives status / order_status)
ACTIONS = [
    ("draft", "Save as draft", "Saves the order; a dine-in table stays available."),
    ("kot", "Send to kitchen (KOT)",
     "Confirms the order and creates a KOT; the dine-in table runs and is locked to you."),
    ("bill", "Bill",
     "Confirms the order for payment; the dine-in table runs and is locked to you."),
    ("cancel", "Cancel", "Cancels the order and its KOTs; the table becomes available."),
    ("pay", "Pay",
     "Records a payment (POST /pos/orders/{id}/pay): payment_due until the total is covered, "
     "then paid, and the table becomes available."),
]


def _by(rows, attr):
    grouped = {}
    for row in rows:
        grouped.setdefault(getattr(row, attr), []).append(row)
    return grouped


def _order_type_id(actor, wanted):
    """The id of the order type a price is asked for (id or slug), None if none is."""
    if wanted is None or str(wanted).strip() == "":
        return None
    return orders.resolve_order_type(actor.branch_id, wanted).id


# --- Menus and categories --------------------------------------------------------------

def menus(actor):
    menu = models.Menu
    return [{"id": m.id, "menu_name": m.menu_name, "sort_order": m.sort_order}
            for m in menu.select().where(menu.branch == actor.branch_id)
            .order_by(menu.sort_order, menu.id)]


def categories(actor):
    category, item = models.ItemCategory, models.MenuItem
    query = (category.select(category, fn.COUNT(item.id).alias("count"))
             .join(item, JOIN.LEFT_OUTER, on=(item.item_category == category.id))
             .where(category.branch == actor.branch_id)
             .group_by(category.id).order_by(category.sort_order, category.id))
    return [{"id": c.id, "count": c.count, "category_name": c.category_name,
             "sort_order": c.sort_order} for c in query]


# --- Items, their variations, prices and modifier groups ---------------------------------

def _prices(item_ids):
    """{(item id, variation id or None): [{order_type_id, final_price}]}, one query."""
    price, order_type = models.MenuItemPrice, models.OrderType
    rows = (price.select(price).join(order_type)
            .where(price.menu_item.in_(item_ids) & order_type.is_active)
            .order_by(order_type.sort_order, order_type.id))
    found = {}
    for row in rows:
        found.setdefault((row.menu_item_id, row.variation_id), []).append(
            {"order_type_id": row.order_type_id, "final_price": row.final_price})
    return found


def _variations(menu_items, order_type_id, prices):
    """{item id: [variation]}, one query."""
    variation = models.MenuItemVariation
    rows = _by(variation.select().where(variation.menu_item.in_([i.id for i in menu_items]))
               .order_by(variation.sort_order, variation.id), "menu_item_id")
    return {menu_item.id: [{"id": v.id, "variation": v.variation, "name": v.variation,
                            "variation_name": v.variation,
                            "price": pricing.item_price(menu_item, v, order_type_id),
                            "menu_item_id": menu_item.id, "sort_order": v.sort_order,
                            "prices": prices.get((menu_item.id, v.id), [])}
                           for v in rows.get(menu_item.id, [])]
            for menu_item in menu_items}


def _modifier_groups(menu_items, order_type_id, branch_id):
    """{item id: [group with its pivot and options]}, two queries."""
    link, group, option = models.ItemModifier, models.ModifierGroup, models.ModifierOption
    links = list(link.select(link, group).join(group)
                 .where(link.menu_item.in_([i.id for i in menu_items])).order_by(link.id))
    options = _by(option.select()
                  .where(option.modifier_group.in_({ln.modifier_group_id for ln in links}))
                  .order_by(option.sort_order, option.id), "modifier_group_id")
    # Each group's options are priced once, however many items offer the group.
    shaped_options = {
        group_id: [{"id": o.id, "name": o.name,
                    "price": pricing.option_price(o, order_type_id, branch_id),
                    "is_available": o.is_available, "is_preselected": o.is_preselected,
                    "sort_order": o.sort_order, "modifier_group_id": group_id} for o in rows]
        for group_id, rows in options.items()}
    shaped = {menu_item.id: [] for menu_item in menu_items}
    for ln in links:
        shaped[ln.menu_item_id].append({
            "id": ln.modifier_group.id, "name": ln.modifier_group.name,
            "description": ln.modifier_group.description,
            "pivot": {"menu_item_id": ln.menu_item_id, "modifier_group_id": ln.modifier_group_id,
                      "is_required": ln.is_required,
                      "allow_multiple_selection": ln.allow_multiple_selection},
            "options": shaped_options.get(ln.modifier_group_id, []),
        })
    return shaped


def _item_rows(menu_items, order_type_id):
    """The rows of /pos/items for menu_items: five queries for any number of items."""
    prices = _prices([i.id for i in menu_items])
    item_variations = _variations(menu_items, order_type_id, prices)
    item_groups = _modifier_groups(menu_items, order_type_id,
                                   menu_items[0].branch_id if menu_items else None)
    rows = []
    for menu_item in menu_items:
        row = {
            "id": menu_item.id, "branch_id": menu_item.branch_id,
            "item_name": menu_item.item_name, "description": menu_item.description,
            "type": menu_item.type, "price": menu_item.price, "menu_id": menu_item.menu_id,
            "item_category_id": menu_item.item_category_id,
            "is_available": menu_item.is_available, "image": menu_item.image,
            "preparation_time": menu_item.preparation_time,
            "kot_place_id": menu_item.kot_place_id, "sort_order": menu_item.sort_order,
            "prices": prices.get((menu_item.id, None), []),
            "variations": item_variations[menu_item.id],
            "modifier_groups": item_groups[menu_item.id],
            "variations_count": len(item_variations[menu_item.id]),
            "modifier_groups_count": len(item_groups[menu_item.id]),
        }
        if order_type_id is not None:
            row["order_type_id"] = order_type_id
            row["price_for_order_type"] = pricing.item_price(menu_item, None, order_type_id)
        rows.append(row)
    return rows


def items(actor, order_type=None, *, menu_id=None, category_id=None):
    """The branch's items (of one menu or category), by category then item order."""
    model, category = models.MenuItem, models.ItemCategory
    query = (model.select(model).join(category)
             .where(model.branch == actor.branch_id)
             .order_by(category.sort_order, model.sort_order, model.id))
    if menu_id is not None:
        menu = models.in_branch(models.Menu, actor.branch_id, menu_id, "Menu")
        query = query.where(model.menu == menu.id)
    if category_id is not None:
        found = models.in_branch(category, actor.branch_id, category_id, "Category")
        query = query.where(model.item_category == found.id)
    return _item_rows(list(query), _order_type_id(actor, order_type))


def _item(actor, item_id):
    return models.in_branch(models.MenuItem, actor.branch_id, item_id, "Item")


def item(actor, item_id, order_type=None):
    return _item_rows([_item(actor, item_id)], _order_type_id(actor, order_type))[0]


def variations(actor, item_id, order_type=None):
    menu_item = _item(actor, item_id)
    return _variations([menu_item], _order_type_id(actor, order_type),
                       _prices([menu_item.id]))[menu_item.id]


def modifier_groups(actor, item_id, order_type=None):
    menu_item = _item(actor, item_id)
    return _modifier_groups([menu_item], _order_type_id(actor, order_type),
                            menu_item.branch_id)[menu_item.id]


# --- Order configuration -----------------------------------------------------------------

def order_types(actor):
    kind = models.OrderType
    return [{"id": t.id, "slug": t.slug, "order_type_name": t.order_type_name, "type": t.type,
             "uses_token_number": t.uses_token_number, "sort_order": t.sort_order}
            for t in kind.select().where((kind.branch == actor.branch_id) & kind.is_active)
            .order_by(kind.sort_order, kind.id)]


def extra_charges(actor, order_type):
    """The enabled charges for an order type named by id, slug, name or type."""
    try:
        resolved = orders.resolve_order_type(actor.branch_id, order_type)
    except ValidationFailed:
        raise NotFound("Order type not found.")
    ids = [c.id for c in pricing.applicable_charges(actor.branch_id, resolved)]
    charge = models.ExtraCharge
    return [{"id": c.id, "charge_name": c.charge_name, "charge_type": c.charge_type,
             "charge_value": c.charge_value, "order_types": c.order_types or [],
             "is_enabled": c.is_enabled}
            for c in charge.select().where(charge.id.in_(ids)).order_by(charge.id)]


def _logo_url(logo):
    """The logo as a URL when it is one; a bare file name is not served here."""
    if logo and logo.startswith(("http://", "https://", "/")):
        return logo
    return None


def delivery_platforms(actor):
    platform = models.DeliveryPlatform
    return [{"id": p.id, "name": p.name, "logo": p.logo, "logo_url": _logo_url(p.logo)}
            for p in platform.select().where((platform.branch == actor.branch_id) &
                                             platform.is_active).order_by(platform.id)]


def actions(actor):
    """Each action with the status it gives a new order (pay: none fixed; it depends
    on what is still due)."""
    rows = []
    for key, label, effect in ACTIONS:
        status, order_status = orders.ACTIONS.get(key, (None, None))
        rows.append({"key": key, "label": label, "effect": effect, "status": status,
                     "order_status": order_status})
    return rows


def taxes(actor):
    tax = models.Tax
    return [{"id": t.id, "tax_name": t.tax_name, "tax_percent": t.tax_percent}
            for t in tax.select().where(tax.restaurant == actor.restaurant_id).order_by(tax.id)]


def restaurants(actor):
    r = models.Restaurant.get_by_id(actor.restaurant_id)
    return [{"id": r.id, "name": r.name, "hash": r.hash}]


def branches(actor):
    """The branches the user may work in."""
    branch, link = models.Branch, models.UserBranch
    query = (branch.select().join(link, on=(link.branch == branch.id))
             .where((link.user == actor.user_id) & (branch.restaurant == actor.restaurant_id) &
                    branch.is_active)
             .order_by(branch.id))
    return [{"id": b.id, "name": b.name, "address": b.address, "timezone": b.timezone,
             "is_current": b.id == actor.branch_id} for b in query]


def next_order_number(actor, now):
    """[number, formatted] of the branch's next order; looking does not use it up."""
    number, formatted = numbering.next_order_number(models.Branch.get_by_id(actor.branch_id),
                                                    now, consume=False)
    return [number, formatted]
