"""The customer app: the catalog priced for pickup or delivery, placing an order
(``POST /pos/orders`` with placed_via "app") and a customer's orders.

The app orders for pickup or delivery only (default pickup), always for a named
customer, and its order notifies the branch's managers and owners. A delivery's fee is
the server's (protocol/delivery.py ``quote_to``), from the branch to the location of the
customer's address (customer_address_id) or the order's delivery_lat / delivery_lng,
for the order's sub-total; what the app sends as delivery_fee is not used. The token is
a staff token for now (customer accounts come later), so a customer is looked up
within the caller's restaurant and their orders within the caller's branch.
"""

from . import catalog, customers, delivery, models, notifications, orders
from .database import database
from .errors import ValidationFailed
from .order_shapes import created_answer

APP_DEFAULT_ORDER_TYPE = "pickup"


def app_order_type(actor, value=None, order_type_id=None):
    """The order type the app asked for (default pickup); dine-in is refused."""
    if (value is None or str(value).strip() == "") and order_type_id is None:
        value = APP_DEFAULT_ORDER_TYPE
    order_type = orders.resolve_order_type(actor.branch_id, value, order_type_id)
    if order_type.type == "dine_in":
        raise ValidationFailed.field("order_type", "The customer app orders for pickup or "
                                                   "delivery; dine-in is taken at the table.")
    return order_type


def app_catalog(actor, order_type=None):
    """Menus -> categories -> the available items, priced for the order type: each
    item's ``price`` (and its variations' and options') is that order type's."""
    chosen = app_order_type(actor, order_type)
    items = [dict(row, base_price=row["price"], price=row["price_for_order_type"])
             for row in catalog.items(actor, chosen.id) if row["is_available"]]
    all_categories = catalog.categories(actor)
    menus = []
    for menu in catalog.menus(actor):
        categories = []
        for category in all_categories:
            mine = [i for i in items if i["menu_id"] == menu["id"] and
                    i["item_category_id"] == category["id"]]
            if mine:
                categories.append({"id": category["id"],
                                   "category_name": category["category_name"],
                                   "sort_order": category["sort_order"], "items": mine})
        if categories:
            menus.append({"id": menu["id"], "name": menu["menu_name"],
                          "menu_name": menu["menu_name"], "sort_order": menu["sort_order"],
                          "categories": categories})
    return {"order_type": {"id": chosen.id, "slug": chosen.slug,
                           "order_type_name": chosen.order_type_name, "type": chosen.type},
            "menus": menus}


def _require_customer(body):
    if body.customer_id is not None:
        return
    if body.customer is None:
        raise ValidationFailed.field("customer_id", "The customer id field is required when "
                                                    "customer is not present.")
    missing = {"customer.%s" % name: ["The customer.%s field is required." % name]
               for name in ("name", "phone") if not getattr(body.customer, name)}
    if missing:
        raise ValidationFailed(missing)


def place_order(actor, body, now):
    """POST /customer/orders: create_order with placed_via "app", for pickup or
    delivery and a named customer; a new order notifies the branch's managers."""
    _require_customer(body)
    with database.atomic():
        order_type = app_order_type(actor, body.order_type, body.order_type_id)
        uuid = body.uuid or body.client_order_uuid
        retried = bool(uuid) and models.Order.select().where(models.Order.uuid == uuid).exists()
        answer = orders.create_order(actor, body.model_copy(update={
            "order_type": None, "order_type_id": order_type.id, "delivery_fee": 0}), now,
            placed_via="app")
        if retried:
            return answer
        order = models.Order.get_by_id(answer["order"]["id"])
        if order_type.type == "delivery":
            order = _charge_delivery(actor, order, body)
            answer = created_answer(order, answer["kot_ids"])
        notifications.new_online_order(order, now)
        return answer


def _charge_delivery(actor, order, body):
    """The delivery fee the server computes for the order, stored and priced in."""
    lat, lng = getattr(body, "delivery_lat", None), getattr(body, "delivery_lng", None)
    if (lat is None or lng is None) and order.customer_address_id:
        address = models.CustomerAddress.get_by_id(order.customer_address_id)
        lat, lng = address.lat, address.lng
    if lat is None or lng is None:
        raise ValidationFailed.field("delivery_lat", "A delivery needs the address's location: "
                                     "send delivery_lat and delivery_lng, or a "
                                     "customer_address_id whose address has them.")
    quoted = delivery.quote_to(actor.branch_id, lat, lng, order.sub_total)
    if not quoted["available"]:
        raise ValidationFailed.field("order_type", quoted["message"])
    order.delivery_fee = quoted["fee"]
    order.save()
    orders.reprice(order)
    return models.Order.get_by_id(order.id)


def customer_orders(actor, customer_id, page, path):
    """GET /customer/orders: the customer's orders at the caller's branch (paginator);
    a customer of another restaurant is not found."""
    customer = customers.get_customer(actor, customer_id)
    return orders.list_orders(actor, {"customer_id": customer.id, "page": page}, path)
