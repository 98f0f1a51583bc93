"""The shapes of the rider app's 2xx answers (protocol/partner.py), for the OpenAPI
document (conventions as in protocol/shapes.py)."""

from typing import Literal, Optional

from .delivery_shapes import ExecutiveStatus
from .floor_shapes import RiderLocation
from .shapes import Amount, Done, OrderProgress, Page, Shape


class PartnerBranch(Shape):
    id: int
    name: str


class PartnerRider(Shape):
    id: int
    name: str
    phone: str
    phone_code: str
    photo: Optional[str]
    status: ExecutiveStatus
    branch_id: int
    branch: PartnerBranch
    current_order_id: Optional[int]
    location: Optional[RiderLocation]


class PartnerProfile(Done):
    data: PartnerRider


class PartnerSession(Shape):
    partner: PartnerRider
    token_type: Literal["Bearer"]
    access_token: str
    expires_in: int


class PartnerLoggedIn(Done):
    data: PartnerSession


class PartnerDone(Done):
    data: None = None


class PartnerCustomer(Shape):
    id: int
    name: str
    phone: str
    phone_code: str


class PartnerOrderBranch(PartnerBranch):
    address: str


class PartnerLine(Shape):
    id: int
    menu_item_name: str
    variation_name: Optional[str]
    quantity: int
    price: Amount
    total: Amount


class PartnerOrder(Shape):
    id: int
    uuid: Optional[str]
    order_number: int
    formatted_order_number: str
    order_status: OrderProgress
    order_status_label: str
    order_type: str
    date_time: str
    delivery_time: Optional[str]
    estimated_delivery_time: Optional[str]
    sub_total: Amount
    delivery_fee: Amount
    total: Amount
    amount_paid: Amount
    amount_due: Amount
    delivery_address: Optional[str]
    customer: Optional[PartnerCustomer]
    branch: PartnerOrderBranch
    items: list[PartnerLine]


class PartnerOrderDone(Done):
    data: PartnerOrder


class PartnerHistory(Page):
    success: Literal[True]
    message: str
    data: list[PartnerOrder]


class PartnerPoint(Shape):
    latitude: float
    longitude: float


class PartnerPlace(Shape):
    name: Optional[str]
    address: Optional[str]
    coordinates: Optional[PartnerPoint]


class PartnerPayment(Shape):
    mode: Literal["Prepaid", "COD"]
    amount: str
    total: Amount
    amount_due: Amount
    delivery_fee: Amount


class PartnerMoment(Shape):
    time: str
    label: str


class PartnerItem(Shape):
    name: str
    quantity: int


class PartnerLatestOrder(Shape):
    id: int
    order_number: str
    order_status: OrderProgress
    status: str
    restaurant: PartnerPlace
    customer: PartnerPlace
    partner: Shape
    dropETA: str
    distanceToCustomer: Optional[str]
    instructions: Optional[str]
    payment: PartnerPayment
    timeline: list[PartnerMoment]
    items: list[PartnerItem]


class PartnerLatest(Done):
    data: Optional[PartnerLatestOrder]


class PartnerLocation(RiderLocation):
    delivery_executive_id: int


class Located(Done):
    data: PartnerLocation
