"""Head office: every branch's orders, KOTs, reservations, payments, sales and sync
state, for owners and head-office roles (protocol/head_office.py says who and which
branches). The per-branch lists' own filters, plus ``branch_id``.

At the cloud these answer for every branch of the caller's restaurant. At an edge
they answer for the branch it holds (a ``branch_id`` of another branch is a 403
saying to ask the cloud), and ``/head-office/branches`` gives the edge's own view of
its sync. What a node knows of sync arrives as the ``branch_sync`` service, a
function (now, branch ids) -> {branch id: state} run in a Store thread, which the
composition roots pass in (sync/status.py); without it every branch is served by
this node.
"""

from typing import Optional

import pydantic

from .. import head_office, head_office_shapes, payments
from ..pages import PAGE_SIZE
from ..validation import Body, Id, LocalDate, one_of
from .base import APIHandler
from .kitchen import KotFilters
from .orders import OrdersQuery
from .reservations import ReservationsQuery


class HeadOfficeBranchQuery(Body):
    branch_id: Optional[Id] = None       # one branch of the restaurant; default: all


class HeadOfficeOrdersQuery(OrdersQuery, HeadOfficeBranchQuery):
    pass


class HeadOfficeKotsQuery(KotFilters, HeadOfficeBranchQuery):
    pass


class HeadOfficeReservationsQuery(ReservationsQuery, HeadOfficeBranchQuery):
    pass


class HeadOfficeDaysQuery(HeadOfficeBranchQuery):
    date_from: Optional[LocalDate] = None      # each branch's local day
    date_to: Optional[LocalDate] = None


class HeadOfficePaymentsQuery(HeadOfficeDaysQuery):
    payment_method: Optional[one_of(payments.PAY_METHODS)] = pydantic.Field(None,
                                                                            max_length=32)
    page: int = pydantic.Field(1, ge=1, le=1_000_000)
    per_page: int = pydantic.Field(PAGE_SIZE, ge=1, le=1_000_000)


class HeadOfficeHandler(APIHandler):
    tags = ("head-office",)

    async def across(self, fn, *args):
        """fn(actor, serves, *args) in a Store thread: serves(branch id) says whether
        this node holds the branch."""
        self.write_json(await self.actor_run(fn, self.node.serves, *args))


class OrdersAcrossHandler(HeadOfficeHandler):
    responses = {"get": head_office_shapes.HeadOfficeOrderPage}
    queries = {"get": HeadOfficeOrdersQuery}

    async def get(self):
        """Every branch's orders (each names its branch), newest first, 20 a page
        (Laravel paginator): the filters of GET /pos/orders (status, date_from, date_to,
        search, page, per_page or limit up to 100) and branch_id. Owners and head-office
        roles only (403 otherwise)."""
        await self.across(head_office.order_page, self.query().filters(), self.page_path())


class KotsAcrossHandler(HeadOfficeHandler):
    responses = {"get": head_office_shapes.HeadOfficeKots}
    queries = {"get": HeadOfficeKotsQuery}

    async def get(self):
        """Every branch's KOTs of one day (date=YYYY-MM-DD, each branch's local day;
        default each branch's today), oldest first: the filters of GET /pos/kots (status,
        kitchen_place_id, limit 1-100, offset) and branch_id. Owners and head-office
        roles only."""
        await self.across(head_office.kot_list, self.query(), self.now())


class ReservationsAcrossHandler(HeadOfficeHandler):
    responses = {"get": head_office_shapes.HeadOfficeReservationPage}
    queries = {"get": HeadOfficeReservationsQuery}

    async def get(self):
        """Every branch's reservations, latest first, 20 a page: the filters of GET
        /pos/reservations (status, date: each branch's local day, page) and branch_id.
        Owners and head-office roles only."""
        await self.across(head_office.reservation_page, self.query().model_dump(),
                          self.page_path())


class PaymentsAcrossHandler(HeadOfficeHandler):
    responses = {"get": head_office_shapes.HeadOfficePaymentPage}
    queries = {"get": HeadOfficePaymentsQuery}

    async def get(self):
        """Every branch's payments (method, amount applied, tendered, change, its order),
        newest first, 20 a page; filters branch_id, payment_method, date_from and date_to
        (each branch's local days, inclusive), page, per_page up to 100. Owners and
        head-office roles only."""
        await self.across(head_office.payment_page, self.query().model_dump(),
                          self.page_path())


class SalesHandler(HeadOfficeHandler):
    responses = {"get": head_office_shapes.Sales}
    queries = {"get": HeadOfficeDaysQuery}

    async def get(self):
        """Sales per branch and local day, exact: orders, gross, discounts, net, tax,
        charges, delivery fees, tips, total, payments by method, paid, cancelled, drafts
        (protocol/sales.py defines each), and their totals; date_from and date_to (each
        branch's local days, inclusive, at most 92; default each branch's today),
        branch_id. Owners and head-office roles only."""
        await self.across(head_office.sales_summary, self.query(), self.now())


class BranchesHandler(HeadOfficeHandler):
    responses = {"get": head_office_shapes.HeadOfficeBranches}
    queries = {"get": HeadOfficeBranchQuery}

    async def get(self):
        """The restaurant's branches and each one's sync state: served by an edge or by
        the cloud, online, last seen, the edge's outbox depth (changes not yet at the
        cloud, as it last reported them), feed lag (the cloud's changes not yet at the
        edge), dead letters. Owners and head-office roles only."""
        await self.across(head_office.branch_states, self.query().branch_id,
                          self.application.settings.get("branch_sync"), self.now())


default_handlers = [
    (r"/head-office/orders", OrdersAcrossHandler),
    (r"/head-office/kots", KotsAcrossHandler),
    (r"/head-office/reservations", ReservationsAcrossHandler),
    (r"/head-office/payments", PaymentsAcrossHandler),
    (r"/head-office/sales", SalesHandler),
    (r"/head-office/branches", BranchesHandler),
]
