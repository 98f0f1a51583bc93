"""Dispatch: riders assigned to delivery orders, deliveries moved on, the branch's
delivery orders (MODULE-ROUTES.md §2, "assign-delivery", "delivery-status",
"delivery-orders"), and a rider's live state.

A rider's live state is the branch's (``rider_states``, owned like orders by the
branch's authority, so dispatch works at the edge during an outage and replicates up):
``available``, ``on_delivery`` with the order carried, or ``inactive``, and the latest
position. The status the branch lists for a rider (``status_of``) is ``inactive`` when
head office made the account inactive (``delivery_executives.status``), else the live
status, else the account's.

Assigning is one transaction, run by the Store one write at a time, so a check and
its change cannot interleave: the order must be a delivery that is not finished; the
new rider must be active and not on another delivery (409 otherwise); the previous
rider is freed, the new one is ``on_delivery`` with the order, the order names them.
Two dispatchers assigning one rider to two orders at once: one gets a 409.

A delivery moves along ``NEXT`` only (``preparing → ready_for_pickup →
out_for_delivery → delivered | failed``); the same status again is answered as done
(a retry); anything else is a 409 naming what may come next. Leaving for the
customer needs a rider or a platform. At ``delivered`` or ``failed`` the rider is
freed; a delivered order paid in full is ``delivered`` in the legacy status too.
"""

from peewee import fn

from . import branches, events, models, orders, permissions
from .database import database
from .errors import Conflict, ValidationFailed
from .rider_states import free, location_of, set_state, state_of, states, status_of

Executive = models.DeliveryExecutive
DELIVERY_STATUSES = ["preparing", "ready_for_pickup", "out_for_delivery", "delivered",
                     orders.DELIVERY_FAILED]
NEXT = {
    "placed": ("preparing",), "confirmed": ("preparing",),
    "preparing": ("ready_for_pickup",), "food_ready": ("ready_for_pickup",),
    "ready_for_pickup": ("out_for_delivery",),
    "out_for_delivery": ("delivered", orders.DELIVERY_FAILED),
}
FINISHED = ("delivered", orders.DELIVERY_FAILED, "cancelled")
LABELS = {"placed": "Placed", "confirmed": "Confirmed", "preparing": "Preparing",
          "food_ready": "Food ready", "ready_for_pickup": "Ready to deliver",
          "out_for_delivery": "Out for delivery", "delivered": "Delivered",
          orders.DELIVERY_FAILED: "Delivery failed", "cancelled": "Cancelled"}


# --- assigning ----------------------------------------------------------------------------------

def is_delivery(order):
    order_type = (models.OrderType.get_or_none(models.OrderType.id == order.order_type_id)
                  if order.order_type_id else None)
    return order_type is not None and order_type.type == "delivery"


def delivery_order(actor, order_id):
    """One of the branch's orders, which must be a delivery (409 otherwise)."""
    order = models.in_branch(models.Order, actor.branch_id, order_id, "Order",
                             message="Order not found")
    if not is_delivery(order):
        raise Conflict("Order %s is a %s order, not a delivery."
                       % (order.formatted_order_number, order.order_type_name or "non-delivery"))
    return order


def _require_unfinished(order):
    if order.status == "canceled" or order.order_status in FINISHED:
        raise Conflict("Order %s is %s: its delivery cannot change."
                       % (order.formatted_order_number,
                          LABELS.get(order.order_status, order.order_status).lower()))


def _take(executive, order, now):
    """Make the rider carry the order, or 409 when they are inactive or busy."""
    state = state_of(executive.id)
    status = status_of(executive, state)
    if status == "inactive":
        raise Conflict("%s is inactive and cannot be assigned." % executive.name)
    if status == "on_delivery" and (state is None or state.order_id != order.id):
        busy = (models.Order.get_or_none(models.Order.id == state.order_id)
                if state is not None and state.order_id else None)
        raise Conflict("%s is on another delivery%s." % (
            executive.name, " (order %s)" % busy.formatted_order_number if busy else ""))
    set_state(executive, now, status="on_delivery", order=order.id)


def assign(actor, order_id, body, now):
    """PUT /pos/orders/{id}/assign-delivery: the rider (delivery_executive_id; null takes
    the rider off) and the platform (delivery_app_id) of a delivery order, all or
    nothing."""
    permissions.require(actor, "delivery.dispatch")
    sent = body.model_fields_set
    with database.atomic():
        order = delivery_order(actor, order_id)
        _require_unfinished(order)
        previous = order.delivery_executive_id
        if "delivery_app_id" in sent:
            platform = (models.in_branch(models.DeliveryPlatform, actor.branch_id,
                                         body.delivery_app_id, "Delivery platform",
                                         message="Delivery platform not found")
                        if body.delivery_app_id is not None else None)
            if platform is not None and not platform.is_active:
                raise Conflict("%s is not active." % platform.name)
            order.delivery_app = platform.id if platform else None
        if "delivery_executive_id" in sent:
            new = body.delivery_executive_id
            if new is not None:
                executive = models.in_branch(Executive, actor.branch_id, new,
                                             "Delivery executive",
                                             message="Delivery executive not found")
                _take(executive, order, now)
            if previous and previous != new:
                free(previous, order.id, now)
            order.delivery_executive = new
        order.updated_at = now
        order.save()
        events.delivery_event("delivery.assigned", order, {"previous_executive_id": previous},
                              riders=(order.delivery_executive_id, previous))
        events.order_event("order.updated", order)
        return {"success": True, "message": "Delivery assignment updated successfully",
                "data": {"order_id": order.id,
                         "delivery_executive_id": order.delivery_executive_id,
                         "delivery_app_id": order.delivery_app_id}}


# --- moving a delivery on ----------------------------------------------------------------------

def move(order, status, now):
    """Move the delivery to ``status`` by NEXT (the same again: nothing to do); free the
    rider at the end. Answers whether it moved."""
    if order.order_status == status:
        return False
    _require_unfinished(order)
    allowed = NEXT.get(order.order_status, ())
    if status not in allowed:
        raise Conflict("Order %s is %s: it can go to %s next, not %s."
                       % (order.formatted_order_number, order.order_status,
                          " or ".join(allowed) or "nothing", status),
                       allowed=list(allowed))
    if status == "out_for_delivery" and not (order.delivery_executive_id or
                                             order.delivery_app_id):
        raise Conflict("Assign a rider or a delivery platform to order %s first."
                       % order.formatted_order_number)
    order.order_status = status
    if status == "delivered":
        orders.settle_delivered(order)
    order.updated_at = now
    order.save()
    if status in ("delivered", orders.DELIVERY_FAILED) and order.delivery_executive_id:
        free(order.delivery_executive_id, order.id, now)
    return True


def updated(order, **data):
    events.delivery_event("delivery.updated", order, data, riders=(order.delivery_executive_id,))
    events.order_event("order.updated", order)


def set_delivery_status(actor, order_id, status, now):
    """PUT /pos/orders/{id}/delivery-status: {order_id, order_status,
    delivery_executive_id}."""
    permissions.require(actor, "order.status")
    if status not in DELIVERY_STATUSES:
        raise ValidationFailed.field("status", "The selected status is invalid.",
                                     allowed=DELIVERY_STATUSES)
    with database.atomic():
        order = delivery_order(actor, order_id)
        if move(order, status, now):
            updated(order)
        return {"success": True, "message": "Delivery status updated successfully",
                "data": {"order_id": order.id, "order_status": order.order_status,
                         "delivery_executive_id": order.delivery_executive_id}}


# --- the branch's delivery orders ------------------------------------------------------------

def _rider_shape(executive, state):
    if executive is None:
        return None
    return {"id": executive.id, "name": executive.name, "phone": executive.phone,
            "status": status_of(executive, state), "location": location_of(state)}


def delivery_orders(actor, filters, now):
    """GET /pos/delivery-orders: the branch's delivery orders of one local day (default
    today), newest first; filters status (order_status or the legacy status),
    delivery_executive_id, delivery_app_id; limit and offset. Each carries its rider
    with their live status and latest position."""
    order, kind = models.Order, models.OrderType
    branch = models.Branch.get_by_id(actor.branch_id)
    start, end = branches.day_bounds(filters.date or branches.local_today(branch, now),
                                     branches.branch_zone(branch))
    query = (order.select().join(kind, on=(order.order_type == kind.id))
             .where((order.branch == branch.id) & (kind.type == "delivery") &
                    (order.date_time >= start) & (order.date_time < end)))
    if filters.status:
        query = query.where((order.order_status == filters.status) |
                            (order.status == filters.status))
    if filters.delivery_executive_id is not None:
        query = query.where(order.delivery_executive == filters.delivery_executive_id)
    if filters.delivery_app_id is not None:
        query = query.where(order.delivery_app == filters.delivery_app_id)
    total = query.count()
    rows = list(query.order_by(order.date_time.desc(), order.id.desc())
                .limit(filters.limit).offset(filters.offset))
    riders = {e.id: e for e in Executive.select().where(
        Executive.id.in_({r.delivery_executive_id for r in rows if r.delivery_executive_id}))}
    live = states(branch.id)
    people = {c.id: c for c in models.Customer.select().where(
        models.Customer.id.in_({r.customer_id for r in rows if r.customer_id}))}
    counts = dict(models.OrderItem.select(models.OrderItem.order,
                                          fn.COUNT(models.OrderItem.id))
                  .where(models.OrderItem.order.in_([r.id for r in rows]))
                  .group_by(models.OrderItem.order).tuples())
    data = []
    for row in rows:
        customer = people.get(row.customer_id)
        rider = riders.get(row.delivery_executive_id)
        data.append({
            "id": row.id, "order_number": row.order_number,
            "formatted_order_number": row.formatted_order_number,
            "status": row.order_status or row.status, "order_status": row.order_status,
            "payment_status": row.status, "total": row.total,
            "delivery_fee": row.delivery_fee, "delivery_address": row.delivery_address,
            "delivery_time": row.delivery_time,
            "delivery_executive_id": row.delivery_executive_id,
            "delivery_app_id": row.delivery_app_id,
            "delivery_executive": _rider_shape(rider, live.get(rider.id) if rider else None),
            "customer": ({"id": customer.id, "name": customer.name, "phone": customer.phone}
                         if customer else None),
            "items_count": counts.get(row.id, 0), "created_at": row.created_at})
    return {"success": True, "data": data,
            "meta": {"total": total, "offset": filters.offset, "limit": filters.limit}}
