"""The shapes of the API's 2xx answers, for the OpenAPI document (RESPONSES.md).

Each handler names its answer (``responses = {"get": shapes.Order}``; the floor's,
customers', staff's, notifications' and realtime's are in protocol/floor_shapes.py) and the document
(protocol/openapi.py) gives clients and fuzzers these schemas. They describe what the
domain functions return: types, the keys always present, which may be null, and the
fixed vocabularies (taken from the domain modules' own lists). Every shape allows more
keys than it names, because clients ignore fields they do not know and the server may
add some; a key that only some answers carry is named with a default (not required).

A shape is written as a pydantic model is (its keys annotated, a default where one may be
absent) but is a plain class: ``model`` makes its pydantic model when the document is
built. Made at import, the models of some 200 shapes cost every node about 2 MB it
never used: nothing but the document reads them.
"""

import types
import typing
from typing import Annotated, Any, Literal, Optional, Union

import pydantic

from . import orders, tickets

Stamp = str             # an ISO-8601 UTC instant, "2026-01-15T12:00:00Z"
Amount = float          # money and rates: exact on the server, a JSON number on the wire
OrderStatus = Literal[tuple(orders.STATUSES)]
OrderProgress = Literal[tuple(orders.ORDER_STATUSES) + (orders.DELIVERY_FAILED,)]
KotStatus = Literal[tuple(tickets.KOT_STATUSES)]
KotItemStatus = Literal[tuple(tickets.KOT_ITEM_STATUSES)]


class Shape:
    """A JSON object of an answer: the keys named, and any others."""


_MODELS = {}        # shape -> its pydantic model, made on first use


def model(annotation):
    """``annotation`` (a shape, or a type such as ``list[shape]``) with each shape in it
    replaced by its pydantic model, made once: the keys its annotations name (its
    bases' first), their defaults, any other keys allowed."""
    if isinstance(annotation, type) and issubclass(annotation, Shape):
        if annotation not in _MODELS:
            _MODELS[annotation] = None          # being made: a shape naming itself finds it so
            try:
                fields = {name: (model(hint), getattr(annotation, name, ...))
                          for name, hint in typing.get_type_hints(
                              annotation, include_extras=True).items()}
                _MODELS[annotation] = pydantic.create_model(
                    annotation.__name__, __config__=pydantic.ConfigDict(extra="allow"),
                    __doc__=annotation.__doc__, __module__=annotation.__module__, **fields)
            except BaseException:
                del _MODELS[annotation]
                raise
        if _MODELS[annotation] is None:
            raise TypeError("the shape %s names itself: no shape may" % annotation.__name__)
        return _MODELS[annotation]
    args, origin = typing.get_args(annotation), typing.get_origin(annotation)
    if not args or origin is Literal:
        return annotation
    if origin is Annotated:
        return Annotated[(model(args[0]),) + tuple(annotation.__metadata__)]
    if origin in (Union, types.UnionType):
        return Union[tuple(model(arg) for arg in args)]
    return origin[tuple(model(arg) for arg in args)]


class Done(Shape):
    success: Literal[True]
    message: str


# --- Laravel's paginator (protocol/pages.py) ----------------------------------------------

class PageLink(Shape):
    url: Optional[str]
    label: str
    active: bool


class Page(Shape):
    current_page: int
    first_page_url: str
    last_page: int
    last_page_url: str
    links: list[PageLink]
    next_page_url: Optional[str]
    path: str
    per_page: int
    prev_page_url: Optional[str]
    total: int
    to: Optional[int]
    from_: Optional[int] = pydantic.Field(alias="from")


# --- Auth and platform -----------------------------------------------------------------

class User(Shape):
    id: int
    name: str
    email: str
    restaurant_id: int
    branch_id: Optional[int]
    roles: list[str]


class LoginData(Shape):
    token_type: Literal["Bearer"]
    access_token: str
    expires_in: int
    user: User
    permission_map: dict[str, bool]


class LoggedIn(Shape):
    timestamp: Stamp
    status: Literal[True]
    message: str
    data: LoginData


class Me(Shape):
    user: User
    modules: list[str]
    permission_map: dict[str, bool]


class BranchRef(Shape):
    id: int
    name: str


class SwitchedBranch(Shape):
    success: Literal[True]
    branch: BranchRef
    token: str
    token_type: Literal["Bearer"]
    user: User


class Currency(Shape):
    code: str
    symbol: str
    decimals: int


class ConfigRestaurant(Shape):
    id: int
    name: str
    hash: str
    currency: Currency
    require_item_choices: bool          # lines without a variation / required choice: 422
    kot_requires_confirmation: bool     # an order's first KOT is pending_confirmation


class ConfigBranch(Shape):
    id: int
    name: str
    address: str
    timezone: str


class PlatformConfig(Shape):
    user: User
    restaurant: ConfigRestaurant
    branch: ConfigBranch
    features: dict[str, bool]
    modules: list[str]


# --- Catalog -----------------------------------------------------------------------------

class Menu(Shape):
    id: int
    menu_name: str
    sort_order: int


class Category(Shape):
    id: int
    count: int
    category_name: str
    sort_order: int


class Price(Shape):
    order_type_id: int
    final_price: Amount


class Variation(Shape):
    id: int
    variation: str
    name: str               # the same as variation, as some apps read it
    variation_name: str
    price: Amount
    menu_item_id: int


class ModifierOption(Shape):
    id: int
    name: str
    price: Amount
    is_available: bool
    is_preselected: bool
    sort_order: int


class ModifierPivot(Shape):
    is_required: bool
    allow_multiple_selection: bool


class ModifierGroup(Shape):
    id: int
    name: str
    description: Optional[str]
    pivot: ModifierPivot
    options: list[ModifierOption]


class Item(Shape):
    id: int
    item_name: str
    description: Optional[str]
    type: str
    price: Amount
    menu_id: int
    item_category_id: int
    is_available: bool
    image: Optional[str]
    preparation_time: Optional[int]
    kot_place_id: Optional[int]
    prices: list[Price]
    variations: list[Variation]
    modifier_groups: list[ModifierGroup]
    variations_count: int
    modifier_groups_count: int


class OrderType(Shape):
    id: int
    slug: str
    order_type_name: str
    type: str


class ExtraCharge(Shape):
    id: int
    charge_name: str
    charge_type: Literal["percent", "fixed"]
    charge_value: Amount
    order_types: list[str]
    is_enabled: bool


class DeliveryPlatform(Shape):
    id: int
    name: str
    logo: Optional[str]
    logo_url: Optional[str]


class Action(Shape):
    key: str
    label: str
    effect: str


class Tax(Shape):
    id: int
    tax_name: str
    tax_percent: Amount


class Restaurant(Shape):
    id: int
    name: str
    hash: str


class Branch(Shape):
    id: int
    name: str
    address: str
    timezone: str


OrderNumber = pydantic.conlist(Union[int, str], min_length=2, max_length=2)


# --- Orders ------------------------------------------------------------------------------

class LineModifier(Shape):
    id: int
    modifier_option_id: Optional[int]
    name: str
    price: Amount


class Line(Shape):
    id: int
    order_id: int
    menu_item_id: Optional[int]
    variation_id: Optional[int]
    name: str
    quantity: int
    price: Amount
    modifiers_total: Amount
    amount: Amount
    tax_amount: Amount
    note: Optional[str]
    modifiers: list[LineModifier]


class LineCharge(Shape):
    id: int
    charge_id: Optional[int]
    name: str
    amount: Amount


class LineTax(Shape):
    id: int
    tax_id: Optional[int]
    name: str
    amount: Amount


class Summary(Shape):
    sub_total: Amount
    discount_amount: Amount
    tax_total: Amount
    charges_total: Amount
    delivery_fee: Amount
    grand_total: Amount


class Cart(Shape):
    items: list[Line]
    charges: list[LineCharge]
    taxes: list[LineTax]
    summary: Summary


class Financials(Shape):
    sub_total: Amount
    discount_type: Optional[str]
    discount_value: Amount
    discount_amount: Amount
    delivery_fee: Amount
    tax_total: Amount
    total: Amount
    amount_paid: Amount


class OrderCustomer(Shape):
    id: int
    name: str
    phone: Optional[str]
    email: Optional[str]


class TableRef(Shape):
    id: int
    table_code: str


class Order(Shape):
    id: int
    branch_id: int
    order_number: int
    formatted_order_number: str
    status: OrderStatus
    order_status: OrderProgress
    placed_via: str
    order_type: Optional[str]
    date_time: Stamp
    table_id: Optional[int]
    customer_id: Optional[int]
    financials: Financials
    items: list[Line]
    charges: list[LineCharge]
    taxes: list[LineTax]
    customer: Optional[OrderCustomer]
    table: Optional[TableRef]
    cart: Cart


class OrderPage(Page):
    data: list[Order]


class OrderCreated(Done):
    order: Order
    kot_ids: list[int]
    cart: Cart


class ItemsChangedData(Shape):
    order_id: int
    added_items: list[Any]
    updated_items: list[Any]
    removed_items: list[Any]
    sub_total: Amount
    total: Amount
    items_count: int


class ItemsChanged(Done):
    data: ItemsChangedData


class StatusSet(Shape):
    success: Literal[True]
    order_id: int
    status: OrderProgress


class KotSentData(Shape):
    kot_id: int
    kot_number: int
    token_number: Optional[int]
    order_id: int
    items_count: int


class KotSent(Done):
    data: KotSentData


class Paid(Shape):
    success: Literal[True]
    order_id: int
    status: OrderStatus
    payment_id: int
    amount: Amount
    change_given: Amount
    amount_paid: Amount
    amount_due: Amount
    total: Amount


class Split(Shape):
    success: Literal[True]
    order_id: int
    split_order_id: int
    amount: Amount
    payment_method: str
    status: Literal["pending", "paid"]
    order_status: OrderStatus
    amount_due: Amount


class Tipped(Shape):
    success: Literal[True]
    order_id: int
    tip_amount: Amount
    total: Amount
    amount_due: Amount
    status: OrderStatus


# --- Kitchen -----------------------------------------------------------------------------

class KotModifier(Shape):
    id: Optional[int]
    name: str


class KotItem(Shape):
    id: int
    menu_item_id: Optional[int]
    name: str
    variation: Optional[str]
    quantity: int
    status: KotItemStatus
    note: Optional[str]
    modifiers: list[KotModifier]
    missing_choices: list[str]         # "no variation chosen", "no spice level chosen"
    cancel_reason: Optional[str]       # a cancelled item: why, who (a name) and when
    cancelled_by: Optional[str]
    cancelled_at: Optional[Stamp]


class Kot(Shape):
    id: int
    branch_id: int
    kot_number: int
    token_number: Optional[int]
    order_id: int
    order_number: str
    order_type: Optional[str]
    table_name: Optional[str]
    kitchen_place: Optional[str]
    kitchen_place_id: Optional[int]
    status: KotStatus
    note: Optional[str]
    items: list[KotItem]
    items_count: int
    created_at: Stamp
    updated_at: Stamp


class KotDetail(Kot):
    cancel_reason_id: Optional[int]
    cancel_reason: Optional[str]
    cancel_reason_text: Optional[str]


class OrderKotsMeta(Shape):
    order_id: int
    order_number: str
    total_kots: int


class OrderKots(Done):
    data: list[Kot]
    meta: OrderKotsMeta


class KitchenMeta(Shape):
    total: int
    offset: int
    limit: int


class KitchenDisplay(Done):
    data: list[Kot]
    meta: KitchenMeta


class OneKot(Done):
    data: KotDetail


class KotStatusData(Shape):
    id: int
    kot_number: int
    status: KotStatus


class KotStatusSet(Done):
    data: KotStatusData


class KotItemStatusData(Shape):
    id: int
    kot_id: int
    status: KotItemStatus
    kot_status: KotStatus


class KotItemStatusSet(Done):
    data: KotItemStatusData


class KotPlace(Shape):
    id: int
    name: str
    type: Optional[str]
    is_default: bool
    printer_id: Optional[int]


class KotPlaces(Done):
    data: list[KotPlace]


class CancelReason(Shape):
    id: int
    reason: str
    cancel_order: bool
    cancel_kot: bool


class CancelReasons(Done):
    data: list[CancelReason]
