"""The rider app (``/partner/...``, MODULE-ROUTES.md §6): a rider's profile, their
latest delivery and their history, starting, updating and completing a delivery,
their position, and the devices push reaches them on.

A rider signs in with their login code (protocol/rider_accounts.py) and acts as a
``RiderActor``; every order here is one assigned to them (another is not found).
Unlike the module, an order's ``id`` is its id, amounts are the order's own, and a
delivery moves only as dispatch allows (protocol/dispatch.py NEXT): ``start`` leaves
with an order that is ready for pickup, ``complete`` delivers one that is out for
delivery; the same call again is answered as done (a retry). Writes that change the
branch's state are commands by the rider (at the cloud, run by the branch's edge).
"""

from decimal import ROUND_HALF_UP, Decimal

from . import branches, delivery, dispatch, events, models, notifications
from .database import database
from .errors import Conflict, NotFound
from .money import ZERO
from .pages import paginate
from .rider_states import location_of, set_state, state_of, status_of

ACTIVE = ("ready_for_pickup", "out_for_delivery")
ON_THE_WAY = ("on_way", "reached")
RIDER_SPEED_KMH = 25          # the module's assumption, when the branch sets none


def profile(rider):
    """GET /partner/profile (and the login's partner)."""
    executive = rider.executive
    state = state_of(executive.id)
    branch = models.Branch.get_by_id(executive.branch_id)
    return {"id": executive.id, "name": executive.name, "phone": executive.phone,
            "phone_code": executive.phone_code, "photo": None,
            "status": status_of(executive, state), "branch_id": branch.id,
            "branch": {"id": branch.id, "name": branch.name},
            "current_order_id": state.order_id if state is not None else None,
            "location": location_of(state)}


# --- orders as the rider app shows them ------------------------------------------------------

def _money(restaurant, amount):
    places = Decimal(1).scaleb(-restaurant.currency_decimals)
    return "%s%s" % (restaurant.currency_symbol,
                     "{:,}".format(Decimal(amount).quantize(places, rounding=ROUND_HALF_UP)))


def _customer(order):
    customer = (models.Customer.get_or_none(models.Customer.id == order.customer_id)
                if order.customer_id else None)
    address = (models.CustomerAddress.get_or_none(
        models.CustomerAddress.id == order.customer_address_id)
        if order.customer_address_id else None)
    return customer, address


def _items(order):
    return list(models.OrderItem.select().where(models.OrderItem.order == order.id)
                .order_by(models.OrderItem.id))


def order_shape(order):
    """An order as the rider app's history and actions answer it."""
    customer, _ = _customer(order)
    branch = models.Branch.get_by_id(order.branch_id)
    return {
        "id": order.id, "uuid": order.uuid, "order_number": order.order_number,
        "formatted_order_number": order.formatted_order_number,
        "order_status": order.order_status,
        "order_status_label": dispatch.LABELS.get(order.order_status, order.order_status),
        "order_type": order.order_type_name, "date_time": order.date_time,
        "delivery_time": order.delivery_time, "estimated_delivery_time": None,
        "sub_total": order.sub_total, "delivery_fee": order.delivery_fee,
        "total": order.total, "amount_paid": order.amount_paid,
        "amount_due": max(ZERO, order.total - order.amount_paid),
        "delivery_address": order.delivery_address,
        "customer": ({"id": customer.id, "name": customer.name, "phone": customer.phone,
                      "phone_code": customer.phone_code} if customer else None),
        "branch": {"id": branch.id, "name": branch.name, "address": branch.address},
        "items": [{"id": i.id, "menu_item_name": i.name, "variation_name": None,
                   "quantity": i.quantity, "price": i.price, "total": i.amount}
                  for i in _items(order)],
    }


def _point(lat, lng):
    if lat is None or lng is None:
        return None
    return {"latitude": lat, "longitude": lng}


def latest_shape(order, rider):
    """GET /partner/orders/latest's data: the module's card, with the order's own id
    and amounts."""
    branch = models.Branch.get_by_id(order.branch_id)
    restaurant = models.Restaurant.get_by_id(branch.restaurant_id)
    setting = models.DeliverySetting.get_or_none(models.DeliverySetting.branch == branch.id)
    customer, address = _customer(order)
    origin = _point(setting.branch_lat, setting.branch_lng) if setting else None
    target = _point(address.lat, address.lng) if address else None
    distance = eta = None
    if origin and target:
        km = delivery.haversine_km(origin["latitude"], origin["longitude"],
                                   target["latitude"], target["longitude"])
        distance = delivery.distance_in(km, "km")
        speed = setting.avg_delivery_speed_kmh or RIDER_SPEED_KMH
        eta = "%d mins" % max(1, round(km * 60 / speed))
    due = max(ZERO, order.total - order.amount_paid)
    local = branches.to_local(order.created_at, branches.branch_zone(branch))
    return {
        "id": order.id, "order_number": order.formatted_order_number,
        "order_status": order.order_status,
        "status": dispatch.LABELS.get(order.order_status, order.order_status),
        "restaurant": {"name": "%s %s" % (restaurant.name, branch.name),
                       "address": branch.address, "contact": None, "coordinates": origin},
        "customer": {"name": customer.name if customer else None,
                     "phone": customer.phone if customer else None,
                     "address": order.delivery_address or (address.address if address else None),
                     "coordinates": target},
        "partner": {"name": rider.name, "contact": rider.executive.phone},
        "dropETA": eta or "---",
        "distanceToCustomer": "%s km" % distance if distance is not None else None,
        "instructions": order.note,
        "payment": {"mode": "Prepaid" if due == 0 else "COD",
                    "amount": _money(restaurant, order.total if due == 0 else due),
                    "total": order.total, "amount_due": due,
                    "delivery_fee": order.delivery_fee},
        "timeline": [{"time": local.strftime("%H:%M"), "label": "Order placed"}],
        "items": [{"name": i.name, "quantity": i.quantity} for i in _items(order)],
    }


def _assigned(rider):
    return models.Order.select().where((models.Order.branch == rider.branch_id) &
                                       (models.Order.delivery_executive == rider.executive_id))


def latest(rider):
    """GET /partner/orders/latest: the rider's newest delivery that is ready for pickup
    or out for delivery, or data null."""
    order = (_assigned(rider).where(models.Order.order_status.in_(ACTIVE))
             .order_by(models.Order.date_time.desc(), models.Order.id.desc()).first())
    if order is None:
        return {"success": True, "message": "No active order found", "data": None}
    return {"success": True, "message": "Latest order retrieved successfully",
            "data": latest_shape(order, rider)}


def history(rider, page, per_page, path):
    """GET /partner/orders/history: every order assigned to the rider, newest first
    (Laravel's paginator, with success and message)."""
    query = _assigned(rider).order_by(models.Order.date_time.desc(), models.Order.id.desc())
    answer = paginate(query, page, order_shape, path, per_page)
    return dict(answer, success=True, message="Order history retrieved successfully")


# --- the rider's writes ---------------------------------------------------------------------

def _order(rider, order_id):
    """One of the orders assigned to the rider (another, or none, is not found)."""
    order = _assigned(rider).where(models.Order.id == order_id).first()
    if order is None:
        raise NotFound("Order not found")
    return order


def _acted(order, message):
    return {"success": True, "message": message, "data": order_shape(order)}


def start(rider, order_id, now):
    """POST /partner/orders/{id}/start: leave with an order ready for pickup (it is
    out for delivery, the rider on_delivery carrying it)."""
    with database.atomic():
        order = _order(rider, order_id)
        if dispatch.move(order, "out_for_delivery", now):
            set_state(rider.executive, now, status="on_delivery", order=order.id)
            dispatch.updated(order, by="rider")
        return _acted(order, "Order started successfully")


def report(rider, order_id, status, now):
    """POST /partner/orders/{id}/status: on_way or reached, on an order out for delivery;
    the dispatcher is told (delivery.updated with rider_status)."""
    with database.atomic():
        order = _order(rider, order_id)
        if order.order_status != "out_for_delivery":
            raise Conflict("Order %s is not out for delivery (%s)."
                           % (order.formatted_order_number, order.order_status))
        dispatch.updated(order, by="rider", rider_status=status)
        return _acted(order, "Order status updated successfully")


def complete(rider, order_id, now):
    """POST /partner/orders/{id}/complete: deliver an order out for delivery; the rider
    is available again."""
    with database.atomic():
        order = _order(rider, order_id)
        if dispatch.move(order, "delivered", now):
            dispatch.updated(order, by="rider")
        return _acted(order, "Order completed successfully")


def locate(rider, lat, lng, now):
    """POST /partner/location: the rider's latest position (what dispatch lists)."""
    with database.atomic():
        state = set_state(rider.executive, now, lat=Decimal(str(lat)), lng=Decimal(str(lng)),
                          located_at=now)
        events.emit(events.branch_channel("delivery", rider.branch_id), "rider.location",
                    {"delivery_executive_id": rider.executive_id, "lat": state.lat,
                     "lng": state.lng, "order_id": state.order_id, "updated_at": now})
        return {"success": True, "message": "Location updated successfully",
                "data": {"delivery_executive_id": rider.executive_id,
                         **location_of(state)}}


def register_device(rider, body, now):
    """POST /partner/fcm-token and /partner/devices/register: the rider's device token
    (ai_device_tokens, as a user's: notifications.register_token)."""
    notifications.register_token(rider, body, now)
    return {"success": True, "message": "Device registered successfully", "data": None}


def unregister_device(rider, device_id, token, now):
    """POST /partner/devices/unregister: forget the rider's device (device_id) or token."""
    with database.atomic():
        gone = notifications.unregister_token(rider, device_id, token)
    return {"success": True, "message": "Device unregistered successfully" if gone else
            "No such device", "data": None}
