"""Delivery settings and the delivery fee (MODULE-ROUTES.md §2; protocol/delivery.py)."""

import datetime
from decimal import Decimal
from typing import Annotated, Literal, Optional

import pydantic

from .. import delivery
from ..delivery_shapes import OneSettings, Quoted, SettingsSaved, Tiers
from ..validation import Body, Money, amount
from .base import APIHandler

# Coordinates as sent (a GPS's many digits too; 0 is one); stored to 7 decimals.
Latitude = Annotated[Decimal, pydantic.Field(ge=-90, le=90), pydantic.WithJsonSchema(
    {"type": "number", "minimum": -90, "maximum": 90})]
Longitude = Annotated[Decimal, pydantic.Field(ge=-180, le=180), pydantic.WithJsonSchema(
    {"type": "number", "minimum": -180, "maximum": 180})]
Distance = amount(0, "20000", places=3)
Minutes = Annotated[int, pydantic.Field(ge=0, le=1440)]


class TierBody(Body):
    min_distance: Distance
    max_distance: Distance
    fee: Money


class SettingsBody(Body):
    """Every field is optional: those sent change (null clears one that may be null)."""
    is_enabled: bool = None
    unit: Literal[delivery.UNITS] = None
    max_radius: Optional[Distance] = None
    fee_type: Literal[delivery.FEE_TYPES] = None
    fixed_fee: Optional[Money] = None
    per_distance_rate: Optional[Money] = None
    free_delivery_over_amount: Optional[Money] = None
    free_delivery_within_radius: Optional[Distance] = None
    delivery_schedule_start: Optional[datetime.time] = None
    delivery_schedule_end: Optional[datetime.time] = None
    prep_time_minutes: Minutes = None
    additional_eta_buffer_time: Optional[Minutes] = None
    avg_delivery_speed_kmh: int = pydantic.Field(None, ge=1, le=300)
    branch_lat: Optional[Latitude] = None
    branch_lng: Optional[Longitude] = None
    fee_tiers: Optional[list[TierBody]] = pydantic.Field(None, max_length=50)


class QuoteBody(Body):
    lat: Latitude
    lng: Longitude
    order_amount: Money = 0


class DeliveryHandler(APIHandler):
    tags = ("delivery",)


class SettingsHandler(DeliveryHandler):
    bodies = {"put": SettingsBody}
    responses = {"get": OneSettings, "put": SettingsSaved}
    statuses = {"put": (409,)}

    async def get(self):
        """The branch's delivery settings: data {id, is_enabled, max_radius, unit km|miles,
        fee_type fixed|per_distance|tiered, fixed_fee, per_distance_rate,
        free_delivery_over_amount, free_delivery_within_radius, delivery_schedule_start,
        delivery_schedule_end, prep_time_minutes, additional_eta_buffer_time,
        avg_delivery_speed_kmh, branch_lat, branch_lng, fee_tiers [{id, min_distance,
        max_distance, fee}]}, or data null with a message. Distances are in the unit."""
        self.write_json(await self.actor_run(delivery.get_settings))

    async def put(self):
        """Branchline's: change the branch's delivery settings (the fields sent; fee_tiers
        replace the tiers). Every distance is in the unit; the speed is km/h. 422 for
        settings that make no sense (tiers with gaps, a fee type without its fee,
        delivery on without the branch's location). Head office's data: 409 at an edge.
        Needs Manage Delivery Settings."""
        body = self.body()
        self.write_json(await self.actor_run(delivery.save_settings, body, self.now(),
                                             self.node.role == "cloud"))


class CalculateHandler(DeliveryHandler):
    bodies = {"post": QuoteBody}
    responses = {"post": Quoted}
    statuses = {"post": (422,)}

    async def post(self):
        """The delivery fee and ETA to a customer's lat/lng (0 is a coordinate) for an
        order_amount: data {available, distance (in the unit), unit, distance_km, fee,
        is_free_delivery, free_reason, eta_min, eta_max, message}. available false when
        the branch does not deliver; 422 "outside the delivery area" beyond its radius."""
        body = self.body()
        self.write_json(await self.actor_run(delivery.calculate, body))


class TiersHandler(DeliveryHandler):
    responses = {"get": Tiers}

    async def get(self):
        """The branch's fee tiers by min_distance: data [{id, min_distance, max_distance,
        fee}], in the settings' unit."""
        self.write_json(await self.actor_run(delivery.list_tiers))


default_handlers = [
    ("/pos/delivery-settings", SettingsHandler),
    ("/pos/delivery-fee/calculate", CalculateHandler),
    ("/pos/delivery-fee-tiers", TiersHandler),
]
