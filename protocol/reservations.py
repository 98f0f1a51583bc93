"""Reservations: a table booked for a party at a time, and the life of a booking.

A reservation holds its table for one sitting (the restaurant's
``reservation_sitting_minutes``, default 120) from its time: another booking of
the same table that overlaps it is refused with 409 (Cancelled and No_Show ones
no longer hold it), and around its time the floor shows the table reserved
(``reserved_table_ids``). Times come in as the branch's local time, or with an
offset, and are stored in UTC; answers give both. Statuses are matched in any
case or spelling ("checked in", "CONFIRMED") and go out canonical; they move
only along ``TRANSITIONS``. Checking in opens the table.
"""

import datetime
import re

import peewee

from . import customers, events, models, notifications, permissions, tables
from .branches import (branch_zone, day_bounds, local_today, to_local, to_utc,
                       within_local_days)
from .database import database
from .errors import Conflict, NotFound, Unprocessable, ValidationFailed
from .pages import paginate

PENDING, CONFIRMED, CHECKED_IN, CANCELLED, NO_SHOW = STATUSES = (
    "Pending", "Confirmed", "Checked_In", "Cancelled", "No_Show")
# Where a reservation may go from each status; the last three are final.
TRANSITIONS = {
    PENDING: (CONFIRMED, CHECKED_IN, CANCELLED, NO_SHOW),
    CONFIRMED: (PENDING, CHECKED_IN, CANCELLED, NO_SHOW),
    CHECKED_IN: (),
    CANCELLED: (),
    NO_SHOW: (),
}
RELEASED = (CANCELLED, NO_SHOW)      # no longer hold their table
UPCOMING = (PENDING, CONFIRMED)      # show their table reserved around their time
SLOT_TYPES = ("Breakfast", "Lunch", "Dinner")
RESERVED_AHEAD = datetime.timedelta(minutes=30)
DEFAULT_SITTING_MINUTES = 120


# --- Vocabulary ---------------------------------------------------------------------------

def _key(value):
    return re.sub(r"[^a-z0-9]", "", str(value).lower()).replace("canceled", "cancelled")


def spelled(value, vocabulary):
    """The vocabulary's spelling of value, or None."""
    return {_key(word): word for word in vocabulary}.get(_key(value or ""))


def canonical(value, vocabulary, field):
    """The vocabulary's spelling of value, or a 422 on field with the allowed list."""
    found = spelled(value, vocabulary)
    if found is None:
        raise ValidationFailed.field(field, "The selected %s is invalid." % field.replace("_", " "),
                                     allowed=list(vocabulary))
    return found


def _words(status):
    return status.replace("_", " ").lower()


def slot_for(local):
    return "Breakfast" if local.hour < 11 else "Lunch" if local.hour < 16 else "Dinner"


def _branch(branch_id):
    """The branch with its restaurant's reservation settings, in one query."""
    return (models.Branch.select(models.Branch, models.Restaurant.reservation_sitting_minutes,
                                 models.Restaurant.default_reservation_status)
            .join(models.Restaurant).where(models.Branch.id == branch_id).get())


def _sitting(branch):
    minutes = branch.restaurant.reservation_sitting_minutes
    return datetime.timedelta(minutes=minutes if minutes and minutes > 0
                              else DEFAULT_SITTING_MINUTES)


# --- Shapes and lookups ------------------------------------------------------------------

def shape(reservation, zone):
    """A reservation as clients read it: the UTC instant, the local datetime, date and
    "h:i A" time, and its table."""
    local = to_local(reservation.reservation_date_time, zone)
    table = reservation.table if reservation.table_id else None
    return {
        "id": reservation.id, "branch_id": reservation.branch_id,
        "table_id": reservation.table_id, "table_code": table.table_code if table else None,
        "table": {"id": table.id, "table_code": table.table_code, "area_id": table.area_id,
                  "seating_capacity": table.seating_capacity} if table else None,
        "customer_id": reservation.customer_id,
        "reservation_date_time": reservation.reservation_date_time,
        "datetime": local.strftime("%Y-%m-%d %H:%M:%S"), "date": local.date().isoformat(),
        "time": local.strftime("%I:%M %p"),
        "party_size": reservation.party_size, "status": reservation.status,
        "slot_type": reservation.slot_type, "name": reservation.name,
        "phone": reservation.phone, "email": reservation.email,
        "special_requests": reservation.special_requests,
        "created_by": reservation.created_by_id,
        "created_at": reservation.created_at, "updated_at": reservation.updated_at,
    }


def _with_tables(branch_id):
    return _of_branches([branch_id])


def _of_branches(branch_ids):
    return (models.Reservation.select(models.Reservation, models.Table)
            .join(models.Table, peewee.JOIN.LEFT_OUTER)
            .where(models.Reservation.branch.in_(list(branch_ids))))


def get(actor, reservation_id):
    found = _with_tables(actor.branch_id).where(
        models.Reservation.id == reservation_id).first()
    if found is None:
        raise NotFound("Reservation not found.")
    return found


def _check_table_free(table, at, sitting, zone):
    """409 when a reservation still holding table overlaps a sitting starting at ``at``."""
    r = models.Reservation
    clash = (r.select().where((r.table == table.id) & r.status.not_in(RELEASED) &
                              (r.reservation_date_time > at - sitting) &
                              (r.reservation_date_time < at + sitting))
             .order_by(r.reservation_date_time).first())
    if clash is not None:
        raise Conflict("Table %s is already reserved at %s (party of %d%s); a sitting lasts "
                       "%d minutes. Choose another table or time."
                       % (table.table_code, to_local(clash.reservation_date_time, zone)
                          .strftime("%I:%M %p on %Y-%m-%d"), clash.party_size,
                          ", " + clash.name if clash.name else "",
                          sitting.total_seconds() // 60),
                       reservation_id=clash.id)


def reserved_table_ids(branch_id, now):
    """Tables an upcoming booking holds now: one whose time lies within a sitting
    before now or RESERVED_AHEAD after it."""
    branch = _branch(branch_id)
    r = models.Reservation
    return {row.table_id for row in r.select(r.table).where(
        (r.branch == branch_id) & r.table.is_null(False) & r.status.in_(UPCOMING) &
        (r.reservation_date_time > now - _sitting(branch)) &
        (r.reservation_date_time <= now + RESERVED_AHEAD))}


# --- Operations -----------------------------------------------------------------------------

def _emit(name, data):
    events.emit(events.branch_channel("reservations", data["branch_id"]), name, data)


def create(actor, body, now):
    """POST /pos/reservations: book a table (status: the restaurant's default)."""
    permissions.require(actor, "reservation.manage")
    slot_type = canonical(body.slot_type, SLOT_TYPES, "slot_type") if body.slot_type else None
    with database.atomic():
        branch = _branch(actor.branch_id)
        zone = branch_zone(branch)
        table = tables.get_table(branch.id, body.table_id, "table_id")
        if body.party_size > table.seating_capacity:
            raise ValidationFailed.field(
                "party_size", "Table %s seats %d; the party size must not be greater than %d."
                % (table.table_code, table.seating_capacity, table.seating_capacity))
        at = to_utc(body.reservation_date_time, zone)
        _check_table_free(table, at, _sitting(branch), zone)
        default = branch.restaurant.default_reservation_status
        status = spelled(default, STATUSES) or PENDING
        customer = customers.find(actor.restaurant_id, email=body.email, phone=body.phone)
        created = models.Reservation.create(
            branch=branch.id, table=table.id, customer=customer.id if customer else None,
            reservation_date_time=at, party_size=body.party_size, status=status,
            slot_type=slot_type or slot_for(to_local(at, zone)), name=body.name or "",
            phone=body.phone or "", email=body.email or "",
            special_requests=body.special_requests or "", created_by=actor.user_id,
            created_at=now, updated_at=now)
        data = shape(get(actor, created.id), zone)
        _emit("reservation.created", data)
        _notify_managers(data, now)
        return data


def _notify_managers(data, now):
    """Tell the branch's managers and owners about a new reservation."""
    body = "%s, party of %d at table %s on %s at %s." % (
        data["name"] or "A guest", data["party_size"], data["table_code"], data["date"],
        data["time"])
    for user_id in notifications.branch_users(data["branch_id"], permissions.MANAGE):
        notifications.notify(user_id, data["branch_id"], "new_reservation", "New reservation",
                             body, {"reservation_id": data["id"], "table_id": data["table_id"],
                                    "datetime": data["datetime"],
                                    "party_size": data["party_size"]}, now=now)


def _check_move(current, new):
    """422 unless TRANSITIONS lets a reservation go from current to new."""
    allowed = TRANSITIONS.get(current, ())
    if new not in allowed:
        raise Unprocessable("A reservation that is %s cannot become %s%s." % (
            _words(current), _words(new),
            "; it can become %s" % ", ".join(_words(s) for s in allowed) if allowed else ""),
            current_status=current, allowed=list(allowed))


def set_status(actor, reservation_id, status, now):
    """POST /pos/reservations/{id}/status: move along TRANSITIONS; checking in opens
    the table. Setting the status it already has changes nothing."""
    permissions.require(actor, "reservation.manage")
    new = canonical(status, STATUSES, "status")
    with database.atomic():
        zone = branch_zone(_branch(actor.branch_id))
        reservation = get(actor, reservation_id)
        current = spelled(reservation.status, STATUSES) or reservation.status
        changed = new != current
        if changed:
            _check_move(current, new)
            reservation.status, reservation.updated_at = new, now
            reservation.save()
            if new == CHECKED_IN and reservation.table_id:
                models.Table.update(available_status="running", updated_at=now).where(
                    models.Table.id == reservation.table_id).execute()
        data = shape(get(actor, reservation.id), zone)
        if changed:
            _emit("reservation.updated", data)
        return {"success": True, "message": "The reservation is now %s." % _words(new),
                "reservation": data}


# --- Lists --------------------------------------------------------------------------------

def today(actor, now):
    """GET /pos/reservations/today: the branch's local day, earliest first."""
    branch = _branch(actor.branch_id)
    zone = branch_zone(branch)
    start, end = day_bounds(local_today(branch, now), zone)
    r = models.Reservation
    query = (_with_tables(branch.id)
             .where((r.reservation_date_time >= start) & (r.reservation_date_time < end))
             .order_by(r.reservation_date_time, r.id))
    return [shape(row, zone) for row in query]


def list_reservations(actor, filters, path):
    """GET /pos/reservations: a Laravel paginator, latest first; filters status
    (any case) and date (a local YYYY-MM-DD)."""
    return reservations_page([_branch(actor.branch_id)], filters, path)


def reservations_page(branch_rows, filters, path):
    """A Laravel paginator of the reservations of ``branch_rows``, latest first, each
    in its branch's time zone; filters status (any case) and date (each branch's
    local YYYY-MM-DD)."""
    zones = {branch.id: branch_zone(branch) for branch in branch_rows}
    r = models.Reservation
    query = _of_branches(zones)
    if filters.get("status"):
        query = query.where(r.status == canonical(filters["status"], STATUSES, "status"))
    if filters.get("date"):
        query = query.where(within_local_days(r.branch, r.reservation_date_time, branch_rows,
                                              filters["date"], filters["date"]))
    query = query.order_by(r.reservation_date_time.desc(), r.id.desc())
    return paginate(query, filters.get("page", 1),
                    lambda row: shape(row, zones[row.branch_id]), path)
