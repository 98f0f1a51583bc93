"""The kitchen: an order's KOTs, the kitchen display, KOT and KOT-item statuses,
kitchen places and cancel reasons (POS). Sending an order to the kitchen is
``POST /pos/orders/{id}/kot`` in the orders handlers."""

from typing import Literal, Optional

import pydantic

from .. import kitchen, shapes, tickets
from ..validation import Body, Id, LocalDate, one_of
from .base import APIHandler, path_id


class KotFilters(Body):
    status: Optional[Literal[tuple(tickets.KOT_STATUSES)]] = None
    kitchen_place_id: Optional[Id] = None
    date: Optional[LocalDate] = None
    limit: int = pydantic.Field(50, ge=1, le=100)
    offset: int = pydantic.Field(0, ge=0, le=1_000_000)


class KotStatusBody(Body):
    status: one_of(tickets.KOT_STATUSES)
    cancel_reason_id: Optional[Id] = None
    cancel_reason_text: Optional[str] = pydantic.Field(None, max_length=500)


class ItemStatusBody(Body):
    status: one_of(tickets.KOT_ITEM_STATUSES)


class OrderKotsHandler(APIHandler):
    responses = {"get": shapes.OrderKots}
    tags = ("kitchen",)

    async def get(self, order_id):
        """The order's KOTs with their items (name, variation, modifiers), oldest first."""
        self.write_json(await self.actor_run(kitchen.order_kots, int(order_id)))


class KotsHandler(APIHandler):
    responses = {"get": shapes.KitchenDisplay}
    queries = {"get": KotFilters}
    tags = ("kitchen",)

    async def get(self):
        """The kitchen display: the branch's KOTs of one local day (date=YYYY-MM-DD, default
        today), oldest first; filters status and kitchen_place_id; limit 1-100 (50), offset."""
        self.write_json(await self.actor_run(kitchen.kitchen_display, self.query(), self.now()))


class KotHandler(APIHandler):
    responses = {"get": shapes.OneKot}
    tags = ("kitchen",)

    async def get(self, kot_id):
        """One KOT with its items' prices and its cancel reason."""
        self.write_json(await self.actor_run(kitchen.show_kot, int(kot_id)))


class KotStatusHandler(APIHandler):
    responses = {"put": shapes.KotStatusSet}
    once = ("put",)
    statuses = {"put": (422,)}
    bodies = {"put": KotStatusBody}
    tags = ("kitchen",)

    async def put(self, kot_id):
        """Set a KOT's status (pending_confirmation, in_kitchen, food_ready, served,
        cancelled; 422 with allowed otherwise). Cancelling takes its items off the order
        (the whole order when the reason says so or nothing is left of it)."""
        body = self.body()
        await self.write_once(kitchen.set_kot_status, int(kot_id), body, self.now())


class KotItemStatusHandler(APIHandler):
    responses = {"put": shapes.KotItemStatusSet}
    once = ("put",)
    statuses = {"put": (422,)}
    bodies = {"put": ItemStatusBody}
    tags = ("kitchen",)

    async def put(self, item_id):
        """Set a KOT item's status (pending, cooking, ready, cancelled); the KOT becomes
        food_ready once every item is ready or cancelled. A cancelled item comes off the order."""
        body = self.body()
        await self.write_once(kitchen.set_item_status, int(item_id), body.status, self.now())


class KotPlacesHandler(APIHandler):
    responses = {"get": shapes.KotPlaces}
    tags = ("kitchen",)

    async def get(self):
        """The branch's kitchen places (stations that receive KOTs)."""
        self.write_json(await self.actor_run(kitchen.kot_places))


class CancelReasonsHandler(APIHandler):
    responses = {"get": shapes.CancelReasons}
    tags = ("kitchen",)

    async def get(self):
        """The restaurant's reasons for cancelling a KOT (cancel_order: the whole order)."""
        self.write_json(await self.actor_run(kitchen.cancel_reasons))


default_handlers = [
    (r"/pos/orders/%s/kots" % path_id("order_id"), OrderKotsHandler),
    (r"/pos/kots", KotsHandler),
    (r"/pos/kots/%s" % path_id("kot_id"), KotHandler),
    (r"/pos/kots/%s/status" % path_id("kot_id"), KotStatusHandler),
    (r"/pos/kot-items/%s/status" % path_id("item_id"), KotItemStatusHandler),
    (r"/pos/kot-places", KotPlacesHandler),
    (r"/pos/kot-cancel-reasons", CancelReasonsHandler),
]
