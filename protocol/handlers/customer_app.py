"""The customer app's routes: the catalog priced for pickup or delivery, placing an
order and a customer's orders (the rules are ``protocol.customer_app``)."""

from typing import Optional

import pydantic

from .. import customer_app, floor_shapes, shapes
from ..customer_app import APP_DEFAULT_ORDER_TYPE
from ..validation import Body, Id
from .base import APIHandler
from .delivery import Latitude, Longitude
from .orders import OrderBody


class AppOrderBody(OrderBody):
    """An app order: for a delivery, where to (or customer_address_id with a location);
    the fee is the server's."""
    delivery_lat: Optional[Latitude] = None
    delivery_lng: Optional[Longitude] = None


class CatalogQuery(Body):
    order_type: str = pydantic.Field(APP_DEFAULT_ORDER_TYPE, max_length=50)


class OrdersQuery(Body):
    customer_id: Id
    page: int = pydantic.Field(1, ge=1, le=1_000_000)


class CustomerCatalogHandler(APIHandler):
    responses = {"get": floor_shapes.AppCatalog}
    queries = {"get": CatalogQuery}
    tags = ("customer app",)

    async def get(self):
        """The catalog for the app: {order_type, menus[{id, name, categories[{id,
        category_name, sort_order, items[...]}]}]}, available items only, priced for
        ?order_type= (pickup by default, or delivery; dine-in is a 422)."""
        query = self.query()
        self.write_json(await self.actor_run(customer_app.app_catalog, query.order_type))


class CustomerOrdersHandler(APIHandler):
    responses = {"get": shapes.OrderPage, "post": {201: shapes.OrderCreated}}
    once = ("post",)
    statuses = {"post": (409,)}
    bodies = {"post": AppOrderBody}
    queries = {"get": OrdersQuery}
    tags = ("customer app",)

    async def get(self):
        """A customer's orders, newest first, 20 a page (Laravel paginator);
        ?customer_id= is required, a customer of another restaurant is 404."""
        query = self.query()
        self.write_json(await self.actor_run(customer_app.customer_orders, query.customer_id,
                                             query.page, self.page_path()))

    async def post(self):
        """Place an order from the app: the body of POST /pos/orders, placed_via "app",
        pickup (default) or delivery, for customer_id or customer{name, phone}. A
        delivery goes to delivery_lat/delivery_lng (or the customer_address_id's
        location) and carries the fee the server computes (422 outside the branch's area
        or when it does not deliver). The branch's managers are notified. Honours
        Idempotency-Key and uuid."""
        body = self.body()
        await self.write_once(customer_app.place_order, body, self.now(), status=201)


default_handlers = [
    (r"/customer/catalog", CustomerCatalogHandler),
    (r"/customer/orders", CustomerOrdersHandler),
]
