"""Orders, their items, kitchen sends and payments (POS)."""

import datetime
from decimal import Decimal
from typing import Literal, Optional, Union

import pydantic

from .. import orders, payments, shapes
from ..errors import ValidationFailed
from ..pages import PAGE_SIZE
from ..validation import Body, Email, Id, Money, Retryable, amount, one_of
from .base import APIHandler, path_id

ID = path_id("order_id")


class ModifierIn(Body):
    id: Id
    price: Optional[Decimal] = None      # ignored: the catalog decides


class ItemIn(Body):
    model_config = pydantic.ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["id"], "properties": {"id": {"type": "integer"}}},
        {"required": ["menu_item_id"], "properties": {"menu_item_id": {"type": "integer"}}}]})
    id: Optional[Id] = None
    menu_item_id: Optional[Id] = None
    quantity: int = pydantic.Field(1, ge=1, le=1000)
    price: Optional[Decimal] = None      # ignored: the catalog decides
    variation_id: Optional[Id] = None
    modifiers: list[Union[ModifierIn, Id]] = []
    note: Optional[str] = pydantic.Field(None, max_length=500)

    @pydantic.model_validator(mode="after")
    def _needs_an_item(self):
        if self.id is None and self.menu_item_id is None:
            raise ValueError("The id field is required.")
        return self

    def model_dump(self, **kwargs):
        data = super().model_dump(**kwargs)
        data["modifiers"] = [m if isinstance(m, int) else {"id": m["id"]}
                             for m in data["modifiers"]]
        return data


class CustomerIn(Body):
    name: Optional[str] = pydantic.Field(None, max_length=255)
    phone: Optional[Union[str, int]] = None
    phone_code: Optional[Union[str, int]] = None
    email: Optional[Email] = None

    @pydantic.field_validator("phone", "phone_code", mode="after")
    @classmethod
    def _as_text(cls, value):
        return None if value is None else str(value)


DiscountType = Optional[Literal["percent", "percentage", "fixed", "flat", "amount"]]


class OrderBody(Body):
    items: list[ItemIn] = pydantic.Field(min_length=1, max_length=500)
    customer: Optional[CustomerIn] = None
    customer_id: Optional[Id] = None
    order_type: Optional[Union[str, int]] = None
    order_type_id: Optional[Id] = None
    table_id: Optional[Id] = None
    pax: int = pydantic.Field(1, ge=1, le=500)
    waiter_id: Optional[Id] = None
    delivery_address: Optional[str] = pydantic.Field(None, max_length=1000)
    delivery_time: Optional[datetime.datetime] = None
    delivery_fee: Money = Decimal(0)
    delivery_executive_id: Optional[Id] = None
    delivery_app_id: Optional[Id] = None
    customer_address_id: Optional[Id] = None
    discount_type: DiscountType = None
    discount_value: Money = Decimal(0)
    discount_amount: Money = Decimal(0)
    tip_amount: Money = Decimal(0)
    extra_charges: Optional[list[Union[Id, dict]]] = None
    actions: list[str] = []
    note: Optional[str] = pydantic.Field(None, max_length=2000)
    placed_via: Optional[str] = None
    uuid: Optional[str] = pydantic.Field(None, max_length=64)
    client_order_uuid: Optional[str] = pydantic.Field(None, max_length=64)


class OrderUpdateBody(Body):
    table_id: Optional[Id] = None
    customer: Optional[CustomerIn] = None
    customer_id: Optional[Id] = None
    waiter_id: Optional[Id] = None
    pax: int = pydantic.Field(1, ge=1, le=500)
    note: Optional[str] = pydantic.Field(None, max_length=2000)
    delivery_address: Optional[str] = pydantic.Field(None, max_length=1000)
    delivery_time: Optional[datetime.datetime] = None
    delivery_fee: Money = Decimal(0)
    discount_type: DiscountType = None
    discount_value: Money = Decimal(0)
    actions: list[str] = []
    action: Optional[str] = None

    @pydantic.model_validator(mode="after")
    def _single_action(self):
        if self.action and not self.actions:
            self.actions = [self.action]
        return self


class ItemChange(Body):
    action: Literal["add", "update", "remove"] = "add"     # the module's default
    id: Optional[Id] = None
    menu_item_id: Optional[Id] = None
    order_item_id: Optional[Id] = None
    quantity: Optional[int] = pydantic.Field(None, ge=1, le=1000)
    price: Optional[Decimal] = None
    note: Optional[str] = pydantic.Field(None, max_length=500)
    variation_id: Optional[Id] = None
    modifiers: list[Union[ModifierIn, Id]] = []
    reason: Optional[str] = pydantic.Field(None, max_length=500)   # removing a sent line

    @pydantic.model_validator(mode="after")
    def _target(self):
        if self.action == "add" and self.id is None and self.menu_item_id is None:
            raise ValueError("The menu item id field is required to add an item.")
        if self.action != "add" and self.order_item_id is None:
            if self.id is None:
                raise ValueError("The order item id field is required.")
            self.order_item_id = self.id
        return self

    def model_dump(self, **kwargs):
        data = super().model_dump(**kwargs)
        data["id"] = data.get("menu_item_id") or data.get("id")
        data["modifiers"] = [m if isinstance(m, int) else {"id": m["id"]}
                             for m in data["modifiers"]]
        return data


class ItemsBody(Body):
    items: list[ItemChange] = pydantic.Field(min_length=1, max_length=500)
    recalculate_totals: bool = True


class StatusBody(Body):
    status: one_of(orders.ORDER_STATUSES)


class PayBody(Retryable):
    amount: Optional[Money] = None
    method: Optional[one_of(payments.PAY_METHODS)] = None
    payment_method: Optional[one_of(payments.PAY_METHODS)] = None


class SplitItem(Body):
    order_item_id: Id
    quantity: Optional[int] = pydantic.Field(None, ge=1)


PartAmount = amount("0.01", "9999999999.99")


class SplitBody(Retryable):
    amount: Optional[PartAmount] = None
    payment_method: Literal["cash", "upi", "card", "bank_transfer", "due", "stripe", "razorpay"]
    status: Literal["pending", "paid"] = "paid"
    items: Optional[list[SplitItem]] = None


class TipBody(Retryable):
    amount: Money
    note: Optional[str] = pydantic.Field(None, max_length=500)


class KotBody(Retryable):
    order_item_ids: Optional[list[Id]] = None
    note: Optional[str] = pydantic.Field(None, max_length=500)
    kitchen_place_id: Optional[Id] = None


class OrdersQuery(Body):
    status: Optional[one_of(orders.STATUSES)] = pydantic.Field(None, max_length=50)
    date_from: Optional[datetime.datetime] = None
    date_to: Optional[datetime.datetime] = None
    search: Optional[str] = pydantic.Field(None, max_length=255)
    page: int = pydantic.Field(1, ge=1, le=1_000_000)
    per_page: int = pydantic.Field(PAGE_SIZE, ge=1, le=1_000_000)
    limit: Optional[int] = pydantic.Field(None, ge=1, le=1_000_000)   # per_page's alias

    def filters(self):
        """The filters as protocol.orders.orders_page takes them: a date_to at midnight
        (a bare date) includes that whole day."""
        filters = self.model_dump()
        date_to = filters["date_to"]
        if (date_to is not None and date_to.time() == datetime.time(0)
                and date_to.date() < datetime.date.max):
            filters["date_to"] = date_to + datetime.timedelta(days=1)   # the whole day
        return filters


class OrdersHandler(APIHandler):
    responses = {"get": shapes.OrderPage, "post": {201: shapes.OrderCreated}}
    once = ("post",)
    statuses = {"post": (409,)}
    bodies = {"post": OrderBody}
    queries = {"get": OrdersQuery}
    tags = ("orders",)
    placed_via = "pos"

    async def get(self):
        """Orders of the branch, newest first, 20 a page (Laravel paginator); filters
        status, date_from, date_to (ISO dates), search (number, customer), page;
        per_page (or its alias limit) up to 100."""
        self.write_json(await self.actor_run(orders.list_orders, self.query().filters(),
                                             self.page_path()))

    async def post(self):
        """Create an order (the contract's body). The server prices it from the catalog;
        the first of actions (draft, kot, bill, cancel) decides its status. Honours
        Idempotency-Key and a client's own uuid / client_order_uuid."""
        body = self.body()
        await self.write_once(orders.create_order, body, self.now(), self.placed_via,
                              status=201)


class OrderHandler(APIHandler):
    responses = {"get": shapes.Order, "put": shapes.OrderCreated}
    once = ("put",)
    statuses = {"put": (409,)}
    bodies = {"put": OrderUpdateBody}
    tags = ("orders",)

    async def get(self, order_id):
        """One order with its items, charges, taxes, customer, table and cart."""
        self.write_json(await self.actor_run(orders.show, int(order_id)))

    async def put(self, order_id):
        """Change an order's table, customer, waiter, pax, note or discount, or apply an
        action (kot, bill, cancel)."""
        body = self.body()
        await self.write_once(orders.update_order, int(order_id), body, self.now())


class OrderItemsHandler(APIHandler):
    responses = {"put": shapes.ItemsChanged}
    once = ("put",)
    statuses = {"put": (422,)}
    bodies = {"put": ItemsBody}
    tags = ("orders",)

    async def put(self, order_id):
        """Add (the default action), update and remove lines; the whole order is
        re-priced, and added quantities go to the kitchen when the order is already
        there. Removing a line the kitchen has had cancels it on its KOT (reason
        optional), which needs Manage KOT."""
        body = self.body()
        await self.write_once(orders.update_items, int(order_id), body, self.now())


class OrderStatusHandler(APIHandler):
    responses = {"post": shapes.StatusSet}
    once = ("post",)
    statuses = {"post": (422,)}
    bodies = {"post": StatusBody}
    tags = ("orders",)

    async def post(self, order_id):
        """Set the order's status (order_status vocabulary; 422 with allowed otherwise)."""
        body = self.body()
        await self.write_once(orders.set_status, int(order_id), body.status, self.now())


class OrderKotHandler(APIHandler):
    responses = {"post": {201: shapes.KotSent}}
    once = ("post",)
    statuses = {"post": (422,)}
    bodies = {"post": KotBody}
    tags = ("kitchen",)

    async def post(self, order_id):
        """Send what the kitchen has not had yet (or the given lines) as a KOT."""
        body = self.body()
        await self.write_once(orders.send_kot, int(order_id), body, self.now(), status=201)


class PayHandler(APIHandler):
    responses = {"post": shapes.Paid}
    once = ("post",)
    statuses = {"post": (422,)}
    bodies = {"post": PayBody}
    tags = ("payments",)

    async def post(self, order_id):
        """Record a payment (method cash, card, wallet, other; amount defaults to what is
        due; cash may exceed it and gets change). Honours Idempotency-Key."""
        body = self.body()
        await self.write_once(payments.pay, int(order_id), body.amount,
                              body.method or body.payment_method, self.now())


class SplitPaymentHandler(APIHandler):
    responses = {"post": shapes.Split}
    once = ("post",)
    statuses = {"post": (422,)}
    bodies = {"post": SplitBody}
    tags = ("payments",)

    async def post(self, order_id):
        """Split the bill by amount or by items; a paid split is a payment. The splits
        never exceed what is due."""
        body = self.body()
        await self.write_once(payments.split, int(order_id), body, self.now())


class TipHandler(APIHandler):
    responses = {"post": shapes.Tipped}
    once = ("post",)
    statuses = {"post": (422,)}
    bodies = {"post": TipBody}
    tags = ("payments",)

    async def post(self, order_id):
        """Set the order's tip; it is added to what is due."""
        body = self.body()
        await self.write_once(payments.tip, int(order_id), body.amount, body.note, self.now())


default_handlers = [
    (r"/pos/orders", OrdersHandler),
    (r"/pos/orders/%s" % ID, OrderHandler),
    (r"/pos/orders/%s/items" % ID, OrderItemsHandler),
    (r"/pos/orders/%s/status" % ID, OrderStatusHandler),
    (r"/pos/orders/%s/kot" % ID, OrderKotHandler),
    (r"/pos/orders/%s/pay" % ID, PayHandler),
    (r"/pos/orders/%s/split-payments" % ID, SplitPaymentHandler),
    (r"/pos/orders/%s/tip" % ID, TipHandler),
]
