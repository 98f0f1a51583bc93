"""Delivery settings and the delivery fee (MODULE-ROUTES.md §2; protocol/delivery.py),
delivery platforms and riders (protocol/riders.py). The lists of platforms and riders
are the catalog's and staff's handlers, extended here with their writes."""

import datetime
from decimal import Decimal
from typing import Annotated, Literal, Optional

import pydantic

from .. import delivery, dispatch, riders, staff
from ..delivery_shapes import (Assigned, DeliveryMoved, DeliveryOrders, OnePlatform,
                               OneSettings, PlatformSaved, Quoted, RiderCreated, RiderSaved,
                               RiderStatusSaved, SettingsSaved, Tiers)
from ..shapes import Done
from ..validation import NOT_BLANK, Body, Id, LocalDate, Money, amount
from .base import APIHandler, path_id
from .catalog import DeliveryPlatformsHandler
from .staff import DeliveryExecutivesHandler

# Coordinates as sent (a GPS's many digits too; 0 is one); stored to 7 decimals. The
# document shows multiples of 1e-7 (what is kept), numbers a body may carry (protocol/wire.py).
Latitude = Annotated[Decimal, pydantic.Field(ge=-90, le=90), pydantic.WithJsonSchema(
    {"type": "number", "minimum": -90, "maximum": 90, "multipleOf": 1e-7})]
Longitude = Annotated[Decimal, pydantic.Field(ge=-180, le=180), pydantic.WithJsonSchema(
    {"type": "number", "minimum": -180, "maximum": 180, "multipleOf": 1e-7})]
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


# --- platforms and riders ----------------------------------------------------------------------

Name = Annotated[str, pydantic.Field(min_length=1, max_length=191, json_schema_extra=NOT_BLANK)]
Phone = Optional[Annotated[str, pydantic.Field(max_length=191)]]
RiderStatus = Literal[tuple(staff.EXECUTIVE_STATUSES)]


class PlatformBody(Body):
    """The fields sent change (POST: name is required); null leaves one as it is."""
    name: Optional[Name] = None
    logo: Optional[str] = pydantic.Field(None, max_length=191)
    commission_type: Optional[Literal["percent"]] = None
    commission_value: Optional[amount(0, 100)] = None
    is_active: Optional[bool] = None


class NewPlatformBody(PlatformBody):
    name: Name


class RiderBody(Body):
    name: Optional[Name] = None
    phone: Phone = None
    phone_code: Phone = None
    status: Optional[RiderStatus] = None


class NewRiderBody(RiderBody):
    name: Name


class RiderStatusBody(Body):
    status: RiderStatus


class RiderWrites(APIHandler):
    """Platforms and riders are head office's: a write at an edge is a 409."""

    def at_cloud(self):
        return self.node.role == "cloud"

    async def change(self, fn, *args, status=200):
        self.write_json(await self.actor_run(fn, *args, self.now(), self.at_cloud()), status)


class PlatformsHandler(RiderWrites, DeliveryPlatformsHandler):
    bodies = {"post": NewPlatformBody}
    responses = {**DeliveryPlatformsHandler.responses, "post": {201: PlatformSaved}}
    statuses = {"post": (409,)}

    async def post(self):
        """Add a delivery platform to the branch (201): data {id, name, logo, logo_url,
        commission_type percent, commission_value, formatted_commission, is_active}.
        Head office's data: 409 at an edge. Needs Manage Delivery Settings."""
        body = self.body()
        await self.change(riders.create_platform, body, status=201)


class PlatformHandler(RiderWrites):
    tags = ("delivery",)
    bodies = {"put": PlatformBody}
    responses = {"get": OnePlatform, "put": PlatformSaved, "delete": Done}
    statuses = {"put": (409,), "delete": (409,)}

    async def get(self, platform_id):
        """One of the branch's delivery platforms (active or not); 404 otherwise."""
        self.write_json(await self.actor_run(riders.get_platform, int(platform_id)))

    async def put(self, platform_id):
        """Change the fields sent of one of the branch's platforms. 409 at an edge."""
        body = self.body()
        await self.change(riders.update_platform, int(platform_id), body)

    async def delete(self, platform_id):
        """Delete one of the branch's platforms; one an order names is deactivated
        instead. 409 at an edge."""
        await self.change(riders.delete_platform, int(platform_id))


class RidersHandler(RiderWrites, DeliveryExecutivesHandler):
    bodies = {"post": NewRiderBody}
    responses = {**DeliveryExecutivesHandler.responses, "post": {201: RiderCreated}}
    statuses = {"post": (409,)}

    async def post(self):
        """Add a delivery executive to the branch (201): data {id, branch_id, name, phone,
        phone_code, status, login_code}. login_code is the rider's login, answered this
        once and kept only hashed. 409 at an edge. Needs Manage Delivery Settings."""
        body = self.body()
        await self.change(riders.create_executive, body, status=201)


class RiderHandler(RiderWrites):
    tags = ("delivery",)
    bodies = {"put": RiderBody}
    responses = {"put": RiderSaved, "delete": Done}
    statuses = {"put": (409,), "delete": (409,)}

    async def put(self, executive_id):
        """Change the fields sent of one of the branch's riders (null clears a phone).
        409 at an edge."""
        body = self.body()
        await self.change(riders.update_executive, int(executive_id), body)

    async def delete(self, executive_id):
        """Delete one of the branch's riders; one an order names is made inactive
        instead. 409 at an edge."""
        await self.change(riders.delete_executive, int(executive_id))


class RiderStatusHandler(APIHandler):
    tags = ("delivery",)
    bodies = {"put": RiderStatusBody}
    responses = {"put": RiderStatusSaved}
    once = ("put",)

    async def put(self, executive_id):
        """Set a rider's live status at the branch (available, on_delivery, inactive;
        else 422): data {id, name, status}. Set where the branch runs (at the cloud, a
        command to the branch's edge); available also ends the delivery they carried."""
        body = self.body()
        await self.write_once(riders.set_status, int(executive_id), body.status, self.now())


# --- dispatch ------------------------------------------------------------------------------------

class AssignBody(Body):
    """The fields sent change: a rider (null takes the rider off), a platform (null
    clears it)."""
    delivery_executive_id: Optional[Id] = None
    delivery_app_id: Optional[Id] = None


class DeliveryStatusBody(Body):
    status: Literal[tuple(dispatch.DELIVERY_STATUSES)]


class DeliveryOrdersQuery(Body):
    status: Optional[str] = pydantic.Field(None, max_length=50)
    delivery_executive_id: Optional[Id] = None
    delivery_app_id: Optional[Id] = None
    date: Optional[LocalDate] = None
    limit: int = pydantic.Field(50, ge=1, le=100)
    offset: int = pydantic.Field(0, ge=0, le=1_000_000)


class AssignHandler(DeliveryHandler):
    bodies = {"put": AssignBody}
    responses = {"put": Assigned}
    once = ("put",)
    statuses = {"put": (409,)}

    async def put(self, order_id):
        """Assign a rider (delivery_executive_id) and/or a platform (delivery_app_id) to a
        delivery order, all or nothing: the previous rider is freed, the new one is
        on_delivery. 409 for an inactive rider, a rider on another delivery, an order
        that is not a delivery or is finished. Needs Manage Delivery."""
        body = self.body()
        await self.write_once(dispatch.assign, int(order_id), body, self.now())


class DeliveryStatusHandler(DeliveryHandler):
    bodies = {"put": DeliveryStatusBody}
    responses = {"put": DeliveryMoved}
    once = ("put",)
    statuses = {"put": (409,)}

    async def put(self, order_id):
        """Move a delivery on: preparing -> ready_for_pickup -> out_for_delivery ->
        delivered | failed (the same status again is done; another move is a 409 naming
        what may come next). The rider is freed at delivered or failed."""
        body = self.body()
        await self.write_once(dispatch.set_delivery_status, int(order_id), body.status,
                              self.now())


class DeliveryOrdersHandler(DeliveryHandler):
    queries = {"get": DeliveryOrdersQuery}
    responses = {"get": DeliveryOrders}

    async def get(self):
        """The branch's delivery orders of one day (?date=, default today), newest first;
        ?status= (order_status or the legacy status), ?delivery_executive_id=,
        ?delivery_app_id=, ?limit= 1-100 (50), ?offset=. Each has its rider's live
        status and latest position."""
        query = self.query()
        self.write_json(await self.actor_run(dispatch.delivery_orders, query, self.now()))


default_handlers = [
    ("/pos/delivery-platforms", PlatformsHandler),
    ("/pos/delivery-platforms/%s" % path_id("platform_id"), PlatformHandler),
    ("/pos/delivery-executives", RidersHandler),
    ("/pos/delivery-executives/%s" % path_id("executive_id"), RiderHandler),
    ("/pos/delivery-executives/%s/status" % path_id("executive_id"), RiderStatusHandler),
    ("/pos/delivery-settings", SettingsHandler),
    ("/pos/delivery-fee/calculate", CalculateHandler),
    ("/pos/delivery-fee-tiers", TiersHandler),
    ("/pos/orders/%s/assign-delivery" % path_id("order_id"), AssignHandler),
    ("/pos/orders/%s/delivery-status" % path_id("order_id"), DeliveryStatusHandler),
    ("/pos/delivery-orders", DeliveryOrdersHandler),
]
