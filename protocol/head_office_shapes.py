"""The shapes of head office's answers (protocol/head_office.py), for the OpenAPI
document: the per-branch lists' own shapes, each row naming its branch, the sales
of each branch's days and each branch's sync state."""

from typing import Literal, Optional

from . import floor_shapes, shapes
from .shapes import Amount, Done, Page, Shape, Stamp


class HeadOfficeOrder(shapes.Order):
    branch: str


class HeadOfficeOrderPage(Page):
    data: list[HeadOfficeOrder]


class HeadOfficeKot(shapes.Kot):
    branch: str


class HeadOfficeKots(Done):
    data: list[HeadOfficeKot]
    meta: shapes.KitchenMeta


class HeadOfficeReservation(floor_shapes.Reservation):
    branch: str


class HeadOfficeReservationPage(Page):
    data: list[HeadOfficeReservation]


class HeadOfficePayment(Shape):
    id: int
    branch_id: int
    branch: str
    order_id: int
    order_number: str
    order_status: shapes.OrderStatus
    split_order_id: Optional[int]
    payment_method: str
    amount: Amount                   # what was applied to the order
    tendered: Amount                 # what the customer handed over
    change_given: Amount             # cash given back
    created_by: Optional[int]
    created_at: Stamp


class HeadOfficePaymentPage(Page):
    data: list[HeadOfficePayment]


class SalesFigures(Shape):
    orders: int                      # neither drafts nor cancelled
    gross: Amount                    # their sub-totals, before discounts
    discounts: Amount
    net: Amount                      # gross less discounts
    tax: Amount
    charges: Amount
    delivery_fees: Amount
    tips: Amount
    total: Amount                    # their totals
    payments: dict[str, Amount]      # taken that day, by method (not on cancelled orders)
    paid: Amount                     # the payments' sum
    cancelled: int
    cancelled_total: Amount
    drafts: int


class SalesDay(SalesFigures):
    branch_id: int
    branch: str
    timezone: str
    date: str                        # the branch's local day, YYYY-MM-DD


class Sales(Done):
    date_from: Optional[str]
    date_to: Optional[str]
    data: list[SalesDay]
    totals: SalesFigures


class BranchSync(Shape):
    served_by: Literal["edge", "cloud"]
    node_id: Optional[int]           # the edge's; None: the cloud serves the branch
    online: bool                     # heard from within a minute (as /sync/status says)
    listening: Optional[bool]        # has a pull open now: a command reaches it at once
                                     # (None where that does not apply or is not known)
    last_seen_at: Optional[Stamp]
    seconds_since_seen: Optional[float]
    outbox_depth: Optional[int]      # the edge's changes not yet at the cloud (None: unknown)
    outbox_reported_at: Optional[Stamp]
    feed_lag: Optional[int]          # the cloud's changes for the branch not yet at the edge
                                     # (None at an edge, which does not know it)
    last_push_at: Optional[Stamp]
    last_pull_at: Optional[Stamp]
    dead_letters: int
    message: str


class BranchState(Shape):
    id: int
    name: str
    address: Optional[str]
    timezone: Optional[str]
    sync: BranchSync


class HeadOfficeBranches(Done):
    data: list[BranchState]
