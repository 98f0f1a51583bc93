"""Delivery settings and the delivery fee (/pos/delivery-settings, /pos/delivery-fee/*;
MODULE-ROUTES.md §2), against hand-computed figures.

Distances are hand-computed along a meridian, where the haversine formula is an arc:
d = 6371 km × Δlat × π/180 (1 degree of latitude = 111.19493 km), rounded to the
thousandth of the unit. The demo's Downtown (40.7087, -74.0128) delivers within 6 km:
0–2 km 2.99, 2–4 km 4.99, 4–6 km 6.99, free from an order of 75.00; prep 20 min, 25 km/h,
buffer 10 min.
"""

import math
from decimal import Decimal as D

import pytest

from protocol import delivery
from protocol.errors import Unprocessable

LAT, LNG = D("40.7087000"), D("-74.0128000")
CALC = "/pos/delivery-fee/calculate"
SETTINGS = "/pos/delivery-settings"


def km_north(delta):
    """The hand computation: the arc of ``delta`` degrees of latitude, in km."""
    return 6371 * float(delta) * math.pi / 180


def settings(**values):
    base = dict(is_enabled=True, unit="km", max_radius=None, fee_type="fixed",
                fixed_fee=None, per_distance_rate=None, free_delivery_over_amount=None,
                free_delivery_within_radius=None, delivery_schedule_start=None,
                delivery_schedule_end=None, prep_time_minutes=20,
                additional_eta_buffer_time=None, avg_delivery_speed_kmh=30,
                branch_lat=LAT, branch_lng=LNG)
    base.update(values)
    return base


TIERS = [(D("0"), D("2"), D("2.99")), (D("2"), D("4"), D("4.99")), (D("4"), D("6"), D("6.99"))]

# (settings, tiers, distance in the unit, order amount) -> (fee, is_free_delivery)
FEES = [
    (settings(fixed_fee=D("3.50")), [], D("4.2"), D("10"), D("3.50"), False),
    # per distance: every unit started is charged: 3.2 km -> 4 × 1.25
    (settings(fee_type="per_distance", per_distance_rate=D("1.25")), [], D("3.2"), D("10"),
     D("5.00"), False),
    (settings(fee_type="per_distance", per_distance_rate=D("1.25")), [], D("3.000"), D("10"),
     D("3.75"), False),
    # miles: 2.5 miles -> 3 × 2.00, the rate being per mile
    (settings(fee_type="per_distance", per_distance_rate=D("2.00"), unit="miles"), [],
     D("2.5"), D("10"), D("6.00"), False),
    (settings(fee_type="tiered"), TIERS, D("1.999"), D("10"), D("2.99"), False),
    (settings(fee_type="tiered"), TIERS, D("2.000"), D("10"), D("2.99"), False),  # boundary
    (settings(fee_type="tiered"), TIERS, D("2.001"), D("10"), D("4.99"), False),
    (settings(fee_type="tiered"), TIERS, D("6.000"), D("10"), D("6.99"), False),
    # miles tiers are compared in miles
    (settings(fee_type="tiered", unit="miles"), TIERS, D("3.5"), D("10"), D("4.99"), False),
    # free over an amount (from the amount itself), and within a radius (in the unit)
    (settings(fixed_fee=D("3.50"), free_delivery_over_amount=D("75.00")), [], D("1"),
     D("75.00"), D("0.00"), True),
    (settings(fixed_fee=D("3.50"), free_delivery_over_amount=D("75.00")), [], D("1"),
     D("74.99"), D("3.50"), False),
    (settings(fixed_fee=D("3.50"), free_delivery_within_radius=D("1.5")), [], D("1.500"),
     D("0"), D("0.00"), True),
    (settings(fixed_fee=D("3.50"), free_delivery_within_radius=D("1.5")), [], D("1.501"),
     D("0"), D("3.50"), False),
]


@pytest.mark.parametrize("values, tiers, distance, amount, fee, free", FEES)
def test_fees_match_hand_computed_figures(values, tiers, distance, amount, fee, free):
    assert delivery.problems(values, tiers) == {}
    quoted = delivery.quote(values, tiers, distance, amount)
    assert (quoted["fee"], quoted["is_free_delivery"]) == (fee, free)


def test_beyond_the_radius_or_the_last_tier_is_outside_the_area():
    with pytest.raises(Unprocessable, match="outside the delivery area"):
        delivery.quote(settings(fixed_fee=D("1"), max_radius=D("6")), [], D("6.001"), D("0"))
    with pytest.raises(Unprocessable, match="outside the delivery area"):
        delivery.quote(settings(fee_type="tiered"), TIERS, D("6.001"), D("0"))


def test_distances_and_units():
    # 1 degree of latitude; a mile is 1.609344 km
    km = delivery.haversine_km(0, 0, 1, 0)
    assert delivery.distance_in(km, "km") == D("111.195")
    assert delivery.distance_in(km, "miles") == D("69.093")
    assert delivery.haversine_km(0, 0, 0, 0) == 0
    # ETA: 20 + ceil(5 km / 30 km/h × 60 = 10) = 30; + buffer 10
    assert delivery.eta(settings(additional_eta_buffer_time=10), D("5")) == (30, 40)
    assert delivery.eta(settings(), D("5.01")) == (31, 31)


def test_nonsense_settings_are_named():
    found = delivery.problems(settings(avg_delivery_speed_kmh=0, fee_type="tiered",
                                       max_radius=D("8")), TIERS)
    assert set(found) == {"avg_delivery_speed_kmh", "fee_tiers"}
    gap = [(D("0"), D("2"), D("1")), (D("3"), D("4"), D("2"))]
    assert "fee_tiers" in delivery.problems(settings(fee_type="tiered"), gap)
    assert "fixed_fee" in delivery.problems(settings(), [])
    assert "branch_lat" in delivery.problems(settings(branch_lat=None), [])


async def quote(server, token, lat, lng, amount=None):
    body = {"lat": str(lat), "lng": str(lng)}
    if amount is not None:
        body["order_amount"] = amount
    return await server.fetch("POST", CALC, body, token=token)


async def test_downtown_quotes_hand_computed_fees_and_etas(edge, waiter):
    # 0.0179864° north: 2.000 km, the boundary: the first tier's 2.99
    assert round(km_north("0.0179864"), 3) == 2.0
    at = await quote(edge, waiter, LAT + D("0.0179864"), LNG, 20)
    assert at.status == 200, at
    data = at.body["data"]
    assert data["available"] is True and data["unit"] == "km"
    assert (data["distance"], data["fee"], data["is_free_delivery"]) == (2.0, 2.99, False)
    # ETA: 20 + ceil(2.000 / 25 × 60 = 4.8) = 25; + 10
    assert (data["eta_min"], data["eta_max"]) == (25, 35)
    # 0.03° north: 3.336 km: 4.99; over 75.00 it is free
    assert round(km_north("0.03"), 3) == 3.336
    mid = (await quote(edge, waiter, LAT + D("0.03"), LNG, 20)).body["data"]
    assert (mid["distance"], mid["fee"]) == (3.336, 4.99)
    free = (await quote(edge, waiter, LAT + D("0.03"), LNG, 75)).body["data"]
    assert (free["fee"], free["is_free_delivery"], free["message"]) == (0, True, "Free delivery!")
    # 0.05° north: 5.560 km: 6.99, ETA 20 + ceil(13.34) = 34
    far = (await quote(edge, waiter, LAT + D("0.05"), LNG)).body["data"]
    assert (far["distance"], far["fee"], far["eta_min"]) == (5.56, 6.99, 34)
    # 0.06° north: 6.672 km, beyond 6 km
    out = await quote(edge, waiter, LAT + D("0.06"), LNG)
    assert out.status == 422 and "outside the delivery area" in out.body["message"], out
    assert out.body["success"] is False and out.body["distance"] == 6.672


async def test_bad_coordinates_are_4xx_and_zero_is_a_coordinate(edge, waiter):
    missing = await edge.fetch("POST", CALC, {"order_amount": 10}, token=waiter)
    assert missing.status == 422 and set(missing.body["errors"]) == {"lat", "lng"}, missing
    off = await quote(edge, waiter, 91, 0)
    assert off.status == 422 and "lat" in off.body["errors"], off
    off = await quote(edge, waiter, 0, -180.5)
    assert off.status == 422 and "lng" in off.body["errors"], off
    zero = await quote(edge, waiter, 0, 0)        # valid, and very far from New York
    assert zero.status == 422 and "outside the delivery area" in zero.body["message"], zero


async def test_settings_and_tiers_read_in_the_module_shape(edge, waiter):
    got = await edge.fetch("GET", SETTINGS, token=waiter)
    assert got.status == 200, got
    data = got.body["data"]
    assert (data["fee_type"], data["unit"], data["max_radius"], data["is_enabled"]) == (
        "tiered", "km", 6, True)
    assert data["fixed_fee"] is None and data["free_delivery_over_amount"] == 75
    assert [(t["min_distance"], t["max_distance"], t["fee"]) for t in data["fee_tiers"]] == [
        (0, 2, 2.99), (2, 4, 4.99), (4, 6, 6.99)]
    tiers = await edge.fetch("GET", "/pos/delivery-fee-tiers", token=waiter)
    assert tiers.body["data"] == data["fee_tiers"]


async def test_a_manager_edits_settings_at_the_cloud_in_miles(cloud, edge):
    manager = await cloud.login("manager@demo.test")
    zero = await cloud.fetch("PUT", SETTINGS, {"avg_delivery_speed_kmh": 0}, token=manager)
    assert zero.status == 422 and "avg_delivery_speed_kmh" in zero.body["errors"], zero
    gap = await cloud.fetch("PUT", SETTINGS, {"fee_tiers": [
        {"min_distance": 0, "max_distance": 1, "fee": 1}]}, token=manager)
    assert gap.status == 422 and "fee_tiers" in gap.body["errors"], gap
    saved = await cloud.fetch("PUT", SETTINGS, {
        "unit": "miles", "max_radius": 4, "fee_type": "per_distance", "per_distance_rate": "1.50",
        "free_delivery_within_radius": "0.5", "fee_tiers": []}, token=manager)
    assert saved.status == 200, saved
    assert saved.body["data"]["unit"] == "miles" and saved.body["data"]["fee_tiers"] == []
    # 0.03° north = 3.336 km = 2.073 miles: 3 miles started × 1.50
    assert round(km_north("0.03") / 1.609344, 3) == 2.073
    data = (await quote(cloud, manager, LAT + D("0.03"), LNG)).body["data"]
    assert (data["distance"], data["unit"], data["fee"]) == (2.073, "miles", 4.5)
    # 0.004° north = 0.445 km = 0.276 miles: within the free half mile
    near = (await quote(cloud, manager, LAT + D("0.004"), LNG)).body["data"]
    assert (near["distance"], near["fee"], near["is_free_delivery"]) == (0.276, 0, True)
    # 0.06° north = 4.146 miles: beyond 4 miles
    out = await quote(cloud, manager, LAT + D("0.06"), LNG)
    assert out.status == 422 and out.body["unit"] == "miles" and out.body["max_radius"] == 4

    waiter = await cloud.login("waiter@demo.test")
    refused = await cloud.fetch("PUT", SETTINGS, {"prep_time_minutes": 5}, token=waiter)
    assert refused.status == 403, refused
    at_edge = await edge.fetch("PUT", SETTINGS, {"prep_time_minutes": 5},
                               token=await edge.login("manager@demo.test"))
    assert at_edge.status == 409, at_edge
