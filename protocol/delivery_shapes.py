"""The shapes of the delivery settings' and fee's 2xx answers, for the OpenAPI document
(protocol/delivery.py returns them; conventions as in protocol/shapes.py)."""

from typing import Literal, Optional

from . import delivery, staff
from .floor_shapes import RiderLocation
from .shapes import Amount, Done, OrderProgress, Shape

Unit = Literal[delivery.UNITS]
FeeType = Literal[delivery.FEE_TYPES]


class Tier(Shape):
    id: int
    min_distance: float
    max_distance: float
    fee: Amount


class Settings(Shape):
    id: int
    is_enabled: bool
    max_radius: Optional[float]
    unit: Unit
    fee_type: FeeType
    fixed_fee: Optional[Amount]
    per_distance_rate: Optional[Amount]
    free_delivery_over_amount: Optional[Amount]
    free_delivery_within_radius: Optional[float]
    delivery_schedule_start: Optional[str]
    delivery_schedule_end: Optional[str]
    prep_time_minutes: int
    additional_eta_buffer_time: Optional[int]
    avg_delivery_speed_kmh: int
    branch_lat: Optional[float]
    branch_lng: Optional[float]
    fee_tiers: list[Tier]


class OneSettings(Shape):
    success: Literal[True]
    data: Optional[Settings]
    message: Optional[str] = None


class SettingsSaved(Done):
    data: Settings


class Tiers(Shape):
    success: Literal[True]
    data: list[Tier]


class Quote(Shape):
    available: bool
    message: Optional[str]
    distance: float = None
    unit: Unit = None
    distance_km: float = None
    fee: Amount = None
    is_free_delivery: bool = None
    free_reason: Optional[Literal["order_amount", "distance"]] = None
    eta_min: int = None
    eta_max: int = None


class Quoted(Shape):
    success: Literal[True]
    data: Quote


# --- platforms and riders (protocol/riders.py) --------------------------------------------------

ExecutiveStatus = Literal[tuple(staff.EXECUTIVE_STATUSES)]


class Platform(Shape):
    id: int
    name: str
    logo: Optional[str]
    logo_url: Optional[str]
    commission_type: Literal["percent"]
    commission_value: float
    formatted_commission: str
    is_active: bool


class OnePlatform(Shape):
    success: Literal[True]
    data: Platform


class PlatformSaved(Done):
    data: Platform


class Rider(Shape):
    id: int
    branch_id: int
    name: str
    phone: str
    phone_code: str
    status: ExecutiveStatus


class NewRider(Rider):
    login_code: str


class RiderCreated(Done):
    data: NewRider


class RiderSaved(Done):
    data: Rider


class RiderStatus(Shape):
    id: int
    name: str
    status: ExecutiveStatus


class RiderStatusSaved(Done):
    data: RiderStatus


# --- dispatch (protocol/dispatch.py) ------------------------------------------------------------

class Assignment(Shape):
    order_id: int
    delivery_executive_id: Optional[int]
    delivery_app_id: Optional[int]


class Assigned(Done):
    data: Assignment


class DeliveryState(Shape):
    order_id: int
    order_status: OrderProgress
    delivery_executive_id: Optional[int]


class DeliveryMoved(Done):
    data: DeliveryState


class DispatchedRider(Shape):
    id: int
    name: str
    status: ExecutiveStatus
    location: Optional[RiderLocation]


class DeliveryCustomer(Shape):
    id: int
    name: str
    phone: str


class DeliveryOrder(Shape):
    id: int
    order_number: int
    formatted_order_number: str
    status: str
    order_status: OrderProgress
    total: Amount
    delivery_fee: Amount
    delivery_address: Optional[str]
    delivery_time: Optional[str]
    delivery_executive_id: Optional[int]
    delivery_app_id: Optional[int]
    delivery_executive: Optional[DispatchedRider]
    customer: Optional[DeliveryCustomer]
    items_count: int
    created_at: str


class DeliveryOrdersMeta(Shape):
    total: int
    offset: int
    limit: int


class DeliveryOrders(Shape):
    success: Literal[True]
    data: list[DeliveryOrder]
    meta: DeliveryOrdersMeta
