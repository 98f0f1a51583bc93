"""Delivery settings and the delivery fee of a branch (MODULE-ROUTES.md §2).

A branch's settings (``delivery_settings``, one row) and its fee tiers
(``delivery_fee_tiers``) are head office's data: written at the cloud only and fed
down to the edges, like the catalog (sync/ownership.py). An edge answers an edit
with 409.

Units: every distance of the settings (``max_radius``,
``free_delivery_within_radius``, the tiers' bounds) is in the settings' ``unit``
(km or miles), and so is the ``distance`` a quote answers; the speed is km/h, as its
name ``avg_delivery_speed_kmh`` says. The module converts some of these and not
others; here a distance is converted once, in ``distance_in``, and compared in one
unit. Distances are measured along the great circle by the haversine formula
(``haversine_km``, the one place, R = 6371 km), rounded to a thousandth of the unit
(a metre, about) before any comparison, so a boundary is exact.

The fee (``quote``), once the address is within the area (``max_radius``; for a
tiered fee, also within the last tier, else 422 "outside the delivery area"):

- free when the order amount reaches ``free_delivery_over_amount`` or the distance is
  within ``free_delivery_within_radius`` (null or 0: that rule is off);
- ``fixed``: ``fixed_fee``;
- ``per_distance``: ``per_distance_rate`` × every unit started (ceil of the distance);
- ``tiered``: the fee of the first tier, by ``min_distance``, with min ≤ distance ≤ max
  (so a distance on a boundary takes the lower tier's fee).

ETA: eta_min = prep_time_minutes + travel minutes (distance in km / speed × 60, rounded
up); eta_max = eta_min + additional_eta_buffer_time. Money is Decimal (cents in the
database). Settings that make no sense (a speed of 0, tiers with gaps, a fee type
without its fee, delivery on without the branch's location) are refused when saved
(``problems``), and answered with a 422 if such a row ever reaches ``quote``.
"""

import math
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from . import models, permissions
from .database import database
from .errors import Unprocessable, ValidationFailed
from .money import ZERO, to_money

UNITS = ("km", "miles")
FEE_TYPES = ("fixed", "per_distance", "tiered")
EARTH_RADIUS_KM = 6371.0
KM_PER_MILE = Decimal("1.609344")
DISTANCE = Decimal("0.001")
# The settings' fields a PUT may send (fee_tiers apart).
FIELDS = ("is_enabled", "unit", "max_radius", "fee_type", "fixed_fee", "per_distance_rate",
          "free_delivery_over_amount", "free_delivery_within_radius",
          "delivery_schedule_start", "delivery_schedule_end", "prep_time_minutes",
          "additional_eta_buffer_time", "avg_delivery_speed_kmh", "branch_lat", "branch_lng")
# Rules that a value of 0 turns off, as in the module.
ZERO_IS_OFF = ("free_delivery_over_amount", "free_delivery_within_radius")
Setting, Tier = models.DeliverySetting, models.DeliveryFeeTier


# --- distance ------------------------------------------------------------------------------

def haversine_km(lat1, lng1, lat2, lng2):
    """The great-circle distance in km between two points given in degrees."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    dphi, dlmb = phi2 - phi1, math.radians(float(lng2) - float(lng1))
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_in(km, unit):
    """A distance in km (a float) in ``unit``, as a Decimal to the thousandth."""
    km = Decimal(repr(km))
    value = km / KM_PER_MILE if unit == "miles" else km
    return value.quantize(DISTANCE, rounding=ROUND_HALF_UP)


# --- the settings' rules ----------------------------------------------------------------------

def problems(values, tiers):
    """{field: [message]} of what makes settings (a dict of FIELDS) and tiers
    ([(min, max, fee)]) unusable; empty when they are fine."""
    found = {}

    def bad(field, message):
        found.setdefault(field, []).append(message)

    if values["unit"] not in UNITS:
        bad("unit", "The selected unit is invalid.")
    if values["fee_type"] not in FEE_TYPES:
        bad("fee_type", "The selected fee type is invalid.")
    speed = values["avg_delivery_speed_kmh"]
    if speed is None or not 1 <= speed <= 300:
        bad("avg_delivery_speed_kmh", "The average delivery speed must be 1 to 300 km/h.")
    if values["prep_time_minutes"] is None or not 0 <= values["prep_time_minutes"] <= 1440:
        bad("prep_time_minutes", "The preparation time must be 0 to 1440 minutes.")
    buffer = values["additional_eta_buffer_time"]
    if buffer is not None and not 0 <= buffer <= 1440:
        bad("additional_eta_buffer_time", "The ETA buffer must be 0 to 1440 minutes.")
    for field, limit in (("branch_lat", 90), ("branch_lng", 180)):
        if values[field] is not None and not -limit <= values[field] <= limit:
            bad(field, "The %s must be between -%d and %d." % (field.replace("_", " "),
                                                                limit, limit))
    if values["is_enabled"] and (values["branch_lat"] is None or values["branch_lng"] is None):
        bad("branch_lat", "Set the branch's location (branch_lat, branch_lng) to deliver.")
    radius = values["max_radius"]
    if radius is not None and radius <= 0:
        bad("max_radius", "The maximum radius must be greater than 0.")
    if values["fee_type"] == "fixed" and values["fixed_fee"] is None:
        bad("fixed_fee", "A fixed fee needs fixed_fee.")
    if values["fee_type"] == "per_distance" and values["per_distance_rate"] is None:
        bad("per_distance_rate", "A fee per distance needs per_distance_rate.")
    if values["fee_type"] == "tiered":
        _tier_problems(tiers, radius, bad)
    return found


def _tier_problems(tiers, radius, bad):
    if not tiers:
        bad("fee_tiers", "A tiered fee needs fee tiers.")
        return
    reach = Decimal(0)
    for low, high, _ in sorted(tiers):
        if low >= high:
            bad("fee_tiers", "A tier's min_distance must be below its max_distance.")
        elif low != reach:
            bad("fee_tiers", "The tiers must run from 0 without gaps or overlaps "
                             "(each starts where the one before ends).")
        reach = max(reach, high)
    if radius is not None and reach < radius:
        bad("fee_tiers", "The tiers must reach the maximum radius (%s)." % radius)


def _values(setting):
    return {field: getattr(setting, field) for field in FIELDS}


def _tiers(branch_id):
    return list(Tier.select().where(Tier.branch == branch_id)
                .order_by(Tier.min_distance, Tier.id))


# --- answers -----------------------------------------------------------------------------------

def _number(value):
    """A distance or amount as the module shows it: a number, or null for none or 0."""
    return None if value is None or value == 0 else value


def tier_shape(tier):
    return {"id": tier.id, "min_distance": tier.min_distance, "max_distance": tier.max_distance,
            "fee": tier.fee}


def settings_shape(setting, tiers):
    return {
        "id": setting.id, "is_enabled": setting.is_enabled, "max_radius": setting.max_radius,
        "unit": setting.unit, "fee_type": setting.fee_type,
        **{field: _number(getattr(setting, field)) for field in (
            "fixed_fee", "per_distance_rate", "free_delivery_over_amount",
            "free_delivery_within_radius")},
        "delivery_schedule_start": setting.delivery_schedule_start,
        "delivery_schedule_end": setting.delivery_schedule_end,
        "prep_time_minutes": setting.prep_time_minutes,
        "additional_eta_buffer_time": setting.additional_eta_buffer_time,
        "avg_delivery_speed_kmh": setting.avg_delivery_speed_kmh,
        "branch_lat": setting.branch_lat, "branch_lng": setting.branch_lng,
        "fee_tiers": [tier_shape(t) for t in tiers],
    }


def get_settings(actor):
    """GET /pos/delivery-settings: the branch's settings with their tiers, or data null."""
    setting = Setting.get_or_none(Setting.branch == actor.branch_id)
    if setting is None:
        return {"success": True, "data": None,
                "message": "No delivery settings configured for this branch"}
    return {"success": True, "data": settings_shape(setting, _tiers(actor.branch_id))}


def list_tiers(actor):
    """GET /pos/delivery-fee-tiers: the branch's tiers by min_distance."""
    return {"success": True, "data": [tier_shape(t) for t in _tiers(actor.branch_id)]}


def save_settings(actor, body, now, at_cloud):
    """PUT /pos/delivery-settings: change the fields sent (null clears an optional one;
    fee_tiers, when sent, replace the branch's tiers), then check the whole: 422 with
    field errors when it makes no sense. Head office's data: 409 at an edge."""
    permissions.require(actor, "delivery.settings")
    models.head_office_only(at_cloud, "Delivery settings")
    with database.atomic():
        setting = Setting.get_or_none(Setting.branch == actor.branch_id)
        created = setting is None
        if created:
            setting = Setting(branch=actor.branch_id, created_at=now)
        sent = body.model_fields_set
        for field in FIELDS:
            if field in sent:
                value = getattr(body, field)
                if field in ZERO_IS_OFF and value == 0:
                    value = None
                if field.startswith("delivery_schedule") and value is not None:
                    value = value.strftime("%H:%M")
                setattr(setting, field, value)
        old = _tiers(actor.branch_id)
        tiers = ([(t.min_distance, t.max_distance, t.fee) for t in body.fee_tiers]
                 if "fee_tiers" in sent and body.fee_tiers is not None else
                 [] if "fee_tiers" in sent else
                 [(t.min_distance, t.max_distance, t.fee) for t in old])
        found = problems(_values(setting), tiers)
        if found:
            raise ValidationFailed(found)
        setting.updated_at = now
        setting.save(force_insert=created)
        if "fee_tiers" in sent:
            Tier.delete().where(Tier.branch == actor.branch_id).execute()
            for low, high, fee in sorted(tiers):
                Tier.create(branch=actor.branch_id, min_distance=low, max_distance=high,
                            fee=fee, created_at=now, updated_at=now)
    return {"success": True, "message": "Delivery settings saved successfully",
            "data": settings_shape(setting, _tiers(actor.branch_id))}


# --- the fee -----------------------------------------------------------------------------------

def _outside(distance, limit, unit):
    return Unprocessable(
        "The address is outside the delivery area: %s %s from the branch, which delivers "
        "within %s %s." % (distance, unit, limit, unit),
        available=False, distance=distance, max_radius=limit, unit=unit)


def quote(values, tiers, distance, order_amount):
    """{fee, is_free_delivery, free_reason} for a distance in the settings' unit (a
    Decimal) and an order amount; 422 outside the area. ``values`` as ``problems``
    takes them, ``tiers`` [(min, max, fee)]."""
    unit = values["unit"]
    radius = values["max_radius"]
    if radius is not None and distance > radius:
        raise _outside(distance, radius, unit)
    fee_type = values["fee_type"]
    if fee_type == "fixed":
        fee = values["fixed_fee"]
    elif fee_type == "per_distance":
        fee = values["per_distance_rate"] * distance.to_integral_value(rounding=ROUND_CEILING)
    else:
        ordered = sorted(tiers)
        fee = next((f for low, high, f in ordered if low <= distance <= high), None)
        if fee is None:
            raise _outside(distance, ordered[-1][1], unit)
    over, within = values["free_delivery_over_amount"], values["free_delivery_within_radius"]
    reason = None
    if over and order_amount >= over:
        reason = "order_amount"
    elif within and distance <= within:
        reason = "distance"
    fee = ZERO if reason else to_money(fee)
    return {"fee": fee, "is_free_delivery": reason is not None, "free_reason": reason}


def eta(values, distance_km):
    """(eta_min, eta_max) in minutes: preparation plus travel at the average speed
    (rounded up to the minute), plus the buffer."""
    travel = (distance_km * 60 / values["avg_delivery_speed_kmh"]).to_integral_value(
        rounding=ROUND_CEILING)
    low = values["prep_time_minutes"] + int(travel)
    return low, low + (values["additional_eta_buffer_time"] or 0)


def quote_to(branch_id, lat, lng, order_amount):
    """The delivery from the branch to lat/lng for an order amount: {available,
    distance (in the unit), unit, distance_km, fee, is_free_delivery, free_reason,
    eta_min, eta_max, message}. Not available (available false, a message) when
    delivery is off or not set up; 422 outside the area or when the branch's settings
    are unusable."""
    setting = Setting.get_or_none(Setting.branch == branch_id)
    if setting is None or not setting.is_enabled:
        return {"available": False, "message": "Delivery is not available for this branch"}
    if setting.branch_lat is None or setting.branch_lng is None:
        return {"available": False, "message": "Branch location not configured"}
    values = _values(setting)
    tiers = [(t.min_distance, t.max_distance, t.fee) for t in _tiers(branch_id)]
    found = problems(values, tiers)
    if found:
        first = next(iter(found.values()))[0]
        raise Unprocessable("This branch's delivery settings cannot be used: " + first)
    km = haversine_km(setting.branch_lat, setting.branch_lng, lat, lng)
    unit = setting.unit
    distance = distance_in(km, unit)
    fee = quote(values, tiers, distance, order_amount)
    eta_min, eta_max = eta(values, distance_in(km, "km"))
    return {"available": True, "distance": distance, "unit": unit,
            "distance_km": distance_in(km, "km"), **fee, "eta_min": eta_min,
            "eta_max": eta_max, "message": "Free delivery!" if fee["is_free_delivery"] else None}


def calculate(actor, body):
    """POST /pos/delivery-fee/calculate: ``quote_to`` the customer's lat/lng for the
    order amount."""
    return {"success": True, "data": quote_to(actor.branch_id, body.lat, body.lng,
                                              body.order_amount)}
