"""The shapes of the API's 2xx answers about the floor and the people on it: tables,
reservations, customers, staff, notifications, the customer app and realtime (as
protocol/shapes.py, which holds the common ones and those of orders and the kitchen)."""

from typing import Any, Literal, Optional, Union

from . import reservations, staff
from .shapes import Amount, BranchRef, Done, Item, OrderType, Page, Shape, Stamp

ReservationStatus = Literal[tuple(reservations.STATUSES)]
SlotType = Literal[tuple(reservations.SLOT_TYPES)]
ExecutiveStatus = Literal[tuple(staff.EXECUTIVE_STATUSES)]


# --- Tables and reservations -------------------------------------------------------------

class OrderWaiter(Shape):
    id: int
    name: str


class ActiveOrder(Shape):
    id: int
    order_number: int
    formatted_order_number: str
    status: str
    total: Amount
    amount_due: Amount
    pax: Optional[int]
    waiter: Optional[OrderWaiter]


class Table(Shape):
    id: int
    table_code: str
    status: str
    available_status: Literal["available", "reserved", "running"]
    area_id: int
    area_name: str
    seating_capacity: int
    is_locked: bool
    is_locked_by_current_user: bool
    is_locked_by_other_user: bool
    locked_by_user_id: Optional[int]
    locked_by_user_name: Optional[str]
    locked_at: Optional[str]
    is_running: bool
    active_order_id: Optional[int]
    # the running order, as floor plans read it (COMPAT.md): nested and flat
    active_order: Optional[ActiveOrder]
    current_order_id: Optional[int]
    order_id: Optional[int]
    order_total: Optional[Amount]
    amount_due: Optional[Amount]
    branch_id: int
    hash: str
    created_at: Stamp
    updated_at: Stamp


class TablesSummary(Shape):
    total: int
    running: int
    available: int
    locked_by_me: int
    locked_by_other: int


class Tables(Shape):
    tables: list[Table]
    is_admin: bool
    summary: TablesSummary


class Unlocked(Done):
    table_id: int = None


class Area(Shape):
    id: int
    area_name: str
    tables_count: int


class ReservedTable(Shape):
    id: int
    table_code: str
    area_id: int
    seating_capacity: int


class Reservation(Shape):
    id: int
    branch_id: int
    table_id: Optional[int]
    table_code: Optional[str]
    table: Optional[ReservedTable]
    customer_id: Optional[int]
    reservation_date_time: Stamp
    datetime: str
    date: str
    time: str
    party_size: int
    status: ReservationStatus
    slot_type: SlotType
    name: str
    phone: str


class ReservationPage(Page):
    data: list[Reservation]


class ReservationStatusSet(Done):
    reservation: Reservation


# --- Customers ---------------------------------------------------------------------------

class Customer(Shape):
    id: int
    name: str
    phone_code: Optional[str]
    phone: Optional[str]
    email: Optional[str]
    addresses_count: int
    orders_count: int
    created_at: Stamp


class CustomerSaved(Done):
    customer: Customer


class Address(Shape):
    id: int
    customer_id: int
    label: Optional[str]
    address: str
    lat: Optional[float]
    lng: Optional[float]


class AddressSaved(Done):
    data: Address


# --- Staff and platform lists ------------------------------------------------------------

class StaffMember(Shape):
    id: int
    name: str
    phone: Optional[str]
    phone_code: Optional[str]
    is_delivery_staff: bool


class Waiter(StaffMember):
    email: Optional[str] = None
    roles: list[str] = []


class RiderLocation(Shape):
    lat: float
    lng: float
    updated_at: Optional[str]


class Executive(StaffMember):
    branch_id: int
    status: ExecutiveStatus
    location: Optional[RiderLocation] = None


class Role(Shape):
    id: int
    name: str
    display_name: Optional[str]
    permissions_count: int


class RoleWithPermissions(Role):
    permissions: list[str]


class Person(Shape):
    id: int
    name: str
    email: str
    phone: Optional[str]
    phone_code: Optional[str]
    roles: list[str]
    branches: list[BranchRef]


class Permission(Shape):
    id: int
    name: str
    module: Optional[str]


class Permissions(Shape):
    roles: list[RoleWithPermissions]
    permissions: list[str]                 # the names the caller holds (TableTrack's)
    permission_map: dict[str, bool]
    all_permissions: list[Permission]


class Language(Shape):
    id: int
    code: str
    name: str
    is_active: bool
    is_rtl: bool


class CurrencyRow(Shape):
    id: int
    currency_code: str
    currency_name: str
    currency_symbol: str
    decimals: int


class PaymentGateway(Shape):
    id: int
    name: str
    mode: Optional[str]
    is_enabled: bool


class Printer(Shape):
    id: int
    branch_id: int
    name: str
    type: str
    address: Optional[str]
    char_per_line: int
    is_default: bool


class ReceiptSettings(Shape):
    id: Optional[int]
    branch_id: int
    header: Optional[str]
    footer: Optional[str]
    show_tax: bool
    show_table: bool
    show_customer: bool


# --- Notifications -----------------------------------------------------------------------

class NotificationData(Shape):
    title: str
    body: str
    type: str           # also inside data, with event_key, unless data names its own
    event_key: str
    data: dict[str, Any]


class Notification(Shape):
    id: int
    type: str
    title: str
    body: str
    data: NotificationData
    read_at: Optional[Stamp]
    created_at: Stamp


class NotificationPage(Page):
    data: list[Notification]
    unread_count: int


class PushSettings(Shape):
    vapid_public_key: Optional[str]
    web_push_enabled: bool
    platforms: list[str]


class PushSettingsAnswer(Shape):
    data: PushSettings


class PushLogLine(Shape):
    id: int
    notification_id: int
    device_token_id: Optional[int]
    platform: Optional[str]
    outcome: Literal["sent", "retry", "failed", "expired", "token_removed", "skipped"]
    status_code: Optional[int]
    detail: str
    at: Stamp


class PushLogAnswer(Shape):
    notification_id: int
    type: str
    user_id: int
    data: list[PushLogLine]


class Read(Shape):
    read: Literal[True]


class Saved(Shape):
    saved: Literal[True]


class Sent(Shape):
    sent: Literal[True]


# --- Customer app ------------------------------------------------------------------------

class AppCategory(Shape):
    id: int
    category_name: str
    items: list[Item]


class AppMenu(Shape):
    id: int
    name: str
    categories: list[AppCategory]


class AppCatalog(Shape):
    order_type: OrderType
    menus: list[AppMenu]


# --- Realtime ----------------------------------------------------------------------------

class Connection(Shape):
    pusher_app_id: str
    pusher_key: str
    pusher_cluster: str
    ws_host: str
    ws_port: int
    force_tls: bool
    auth_endpoint: str
    tls_fingerprint: Optional[str]     # SHA-256 of the node's certificate, for pinning
    tls_spki: Optional[str]            # SHA-256 of its key (base64): survives renewal


class RealtimeSettings(Connection):
    id: int
    beamer_status: bool
    instance_id: None
    pusher_broadcast: bool
    is_enabled_pusher_broadcast: bool


class BroadcastSettings(Connection):
    pusher_broadcast: bool
    is_enabled: bool


class BeamsSettings(Shape):
    beamer_status: Literal[False]
    instance_id: None
    is_enabled: Literal[False]
    vapid_public_key: Optional[str]     # the node's own push (Web Push), never a secret


class Data(Shape):
    """{data: ...} (typed by the subclasses)."""


class RealtimeSettingsAnswer(Data):
    data: RealtimeSettings


class BroadcastSettingsAnswer(Data):
    data: BroadcastSettings


class BeamsSettingsAnswer(Data):
    data: BeamsSettings


class RealtimeDiagnostics(Shape):
    timestamp: Stamp
    authenticated: bool
    user_id: int
    pusher_secret: Literal["***", "empty"]      # whether one is set, never its value
    connections: int
    # Events shared with the cloud's other processes (Redis): none, up, or down (alone).
    realtime_bus: Literal["none", "up", "down"]
    pusher_key: str
    ws_host: str
    ws_port: int


class RealtimeDiagnosticsAnswer(Shape):
    data: RealtimeDiagnostics


class EdgeLocation(Shape):
    branch_id: int
    node_id: int
    name: str
    host: str
    addresses: list[str]
    port: int
    tls: bool
    tls_fingerprint: Optional[str]
    tls_spki: Optional[str]
    version: str
    reported_at: Stamp
    api_urls: list[str]
    ws_urls: list[str]


class EdgeLocationAnswer(Data):
    data: EdgeLocation


class RealtimeStatus(Shape):
    pusher_broadcast_enabled: bool
    pusher_beams_enabled: bool
    any_pusher_enabled: bool


class ChannelAuth(Shape):
    auth: str
    channel_data: str = None


class MemberInfo(Shape):
    name: str


class Member(Shape):
    id: Union[int, str]
    info: MemberInfo


class Members(Shape):
    members: list[Member]
    count: int


class Published(Shape):
    """Pusher's HTTP API answers {}."""
