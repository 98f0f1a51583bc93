"""The cash drawer under /pos/cash-register: registers, sessions, cash movements,
denominations and the day's Z report (protocol/cash_register.py, protocol/denominations.py)."""

import datetime
from decimal import Decimal
from typing import Annotated, Literal, Optional

import pydantic

from .. import cash_register, denominations
from ..cash_shapes import (DayReport, Denominations, DenominationWritten, Moved,
                           OneDenomination, OneRegister, OneSession, Registers,
                           RegisterWritten, SessionClosed, SessionOpened, Sessions, SessionSummary,
                           Transactions)
from ..shapes import Done
from ..validation import NOT_BLANK, Body, Id, Money, Retryable, amount
from .base import APIHandler, path_id

PREFIX = "/pos/cash-register"
REGISTER = path_id("register_id")
SESSION = path_id("session_id")
UUID = r"(?P<uuid>[0-9a-fA-F-]{1,36})"

Name = Annotated[str, pydantic.Field(min_length=1, max_length=255, json_schema_extra=NOT_BLANK)]
Amount = amount("0.01", "999999999.99")
Value = amount("0.01", "999999.99")


class RegisterBody(Retryable):
    name: Name
    is_active: Optional[bool] = None


class RegisterUpdateBody(Body):
    name: Optional[Name] = None
    is_active: Optional[bool] = None


class OpenSessionBody(Retryable):
    cash_register_id: Id
    opening_float: Money = Decimal(0)
    note: Optional[str] = pydantic.Field(None, max_length=500)


class DenominationCount(Body):
    denomination_id: Id
    count: int = pydantic.Field(ge=0, le=1000000)


class CloseSessionBody(Body):
    counted_cash: Optional[Money] = None
    expected_cash: Optional[Money] = None       # accepted, never used: the server computes it
    closing_note: Optional[str] = pydantic.Field(None, max_length=1000)
    denomination_counts: Optional[list[DenominationCount]] = pydantic.Field(None, max_length=200)


class MovementBody(Retryable):
    amount: Amount
    reason: Optional[str] = pydantic.Field(None, max_length=500)
    reference: Optional[str] = pydantic.Field(None, max_length=255)


class DenominationBody(Retryable):
    name: Name
    value: Value
    type: Literal["coin", "note", "bill"] = "note"
    description: Optional[str] = pydantic.Field(None, max_length=500)
    is_active: Optional[bool] = None


class DenominationUpdateBody(Body):
    name: Optional[Name] = None
    value: Optional[Value] = None
    type: Optional[Literal["coin", "note", "bill"]] = None
    description: Optional[str] = pydantic.Field(None, max_length=500)
    is_active: Optional[bool] = None


class SessionsQuery(Body):
    status: Optional[Literal["open", "closed"]] = None
    cash_register_id: Optional[Id] = None
    opened_by: Optional[Id] = None
    date_from: Optional[datetime.date] = None
    date_to: Optional[datetime.date] = None
    per_page: Optional[int] = pydantic.Field(None, ge=1, le=100)
    page: Optional[int] = pydantic.Field(None, ge=1, le=100000)


class DayQuery(Body):
    date: Optional[datetime.date] = None


class CashHandler(APIHandler):
    tags = ("cash register",)


class RegistersHandler(CashHandler):
    bodies = {"post": RegisterBody}
    responses = {"get": Registers, "post": {201: RegisterWritten}}
    once = ("post",)

    async def get(self):
        """The branch's registers, inactive ones too, by name: data [{id, name, is_active,
        branch_id, restaurant_id, created_at, updated_at}]."""
        self.write_json(await self.actor_run(cash_register.list_registers))

    async def post(self):
        """Create a register (name; is_active, default true): 201. Needs Manage Cash
        Register. Honours Idempotency-Key or the body's uuid."""
        await self.write_once(cash_register.create_register, self.body(), self.now(), status=201)


class RegisterHandler(CashHandler):
    bodies = {"put": RegisterUpdateBody}
    responses = {"get": OneRegister, "put": RegisterWritten, "delete": Done}
    once = ("put", "delete")
    statuses = {"delete": (409,)}

    async def get(self, register_id):
        """One register of the branch; 404 "Cash register not found"."""
        self.write_json(await self.actor_run(cash_register.get_register, int(register_id)))

    async def put(self, register_id):
        """Rename or (de)activate a register: only the fields given change."""
        body = self.body()
        await self.write_once(cash_register.update_register, int(register_id), body, self.now())

    async def delete(self, register_id):
        """Deactivate a register (it is never deleted); 409 while a session is open on it."""
        await self.write_once(cash_register.deactivate_register, int(register_id), self.now())


class SessionsHandler(CashHandler):
    queries = {"get": SessionsQuery}
    responses = {"get": Sessions}

    async def get(self):
        """The branch's sessions, newest first, 15 a page (per_page, page), filtered by
        status, cash_register_id, opened_by, date_from and date_to (the branch's dates):
        {success, data: [session], meta: {current_page, last_page, per_page, total}}."""
        self.write_json(await self.actor_run(cash_register.list_sessions, self.query()))


class ActiveSessionHandler(CashHandler):
    responses = {"get": OneSession}

    async def get(self):
        """The caller's own open session in the branch, with its transactions; 404
        "No active session found"."""
        self.write_json(await self.actor_run(cash_register.active_session))


class OpenSessionHandler(CashHandler):
    bodies = {"post": OpenSessionBody}
    responses = {"post": {201: SessionOpened}}
    once = ("post",)
    statuses = {"post": (409,)}

    async def post(self):
        """Open a session on a register with a float: 201. 409 when the caller already
        has one open (data.session_id) or the register has; 404 for an unknown or
        inactive register. Needs Open Cash Register."""
        await self.write_once(cash_register.open_session, self.body(), self.now(), status=201)


class SessionHandler(CashHandler):
    responses = {"get": OneSession}

    async def get(self, session_id):
        """One session of the branch with its transactions."""
        self.write_json(await self.actor_run(cash_register.get_session, int(session_id)))


class CloseSessionHandler(CashHandler):
    bodies = {"post": CloseSessionBody}
    responses = {"post": SessionClosed}
    once = ("post",)

    async def post(self, session_id):
        """Close a session with the cash counted (counted_cash, or denomination_counts
        [{denomination_id, count}], or both, which must agree: 422 otherwise). The
        server computes expected_cash (a client's is ignored): float + cash sales +
        cash in - cash out - safe drops - refunds; discrepancy = counted - expected.
        Closing another user's session needs Approve Cash Register."""
        body = self.body()
        await self.write_once(cash_register.close_session, int(session_id), body, self.now())


class SummaryHandler(CashHandler):
    responses = {"get": SessionSummary}

    async def get(self, session_id):
        """The session's Z report: {session, totals{opening_float, cash_sales, cash_in,
        cash_out, safe_drops, refunds, running_total}, expected_cash, counted_cash,
        discrepancy, transactions_count}."""
        self.write_json(await self.actor_run(cash_register.summary, int(session_id)))


class TransactionsHandler(CashHandler):
    responses = {"get": Transactions}

    async def get(self, session_id):
        """The session's transactions, newest first: [{id, type, amount, running_amount,
        reason, reference, happened_at, created_by}]."""
        self.write_json(await self.actor_run(cash_register.session_transactions,
                                             int(session_id)))


class MovementHandler(CashHandler):
    bodies = {"post": MovementBody}
    responses = {"post": {201: Moved}}
    once = ("post",)
    kind = None

    async def post(self):
        """Record cash moved in or out of the caller's own open session (amount
        0.01..999999999.99, reason, reference): 201; 404 without an open session."""
        await self.write_once(cash_register.move_cash, self.kind, self.body(), self.now(),
                              status=201)


class CashInHandler(MovementHandler):
    kind = cash_register.CASH_IN


class CashOutHandler(MovementHandler):
    kind = cash_register.CASH_OUT


class SafeDropHandler(MovementHandler):
    """A safe drop needs Close Cash Register."""
    kind = cash_register.SAFE_DROP


class DenominationsHandler(CashHandler):
    bodies = {"post": DenominationBody}
    responses = {"get": Denominations, "post": {201: DenominationWritten}}
    once = ("post",)

    async def get(self):
        """The branch's active coins and notes, smallest first: [{id, uuid, name, value,
        type, type_label, is_active}]."""
        self.write_json(await self.actor_run(denominations.list_active))

    async def post(self):
        """Add a coin or note (name, value, type coin|note|bill, description): 201."""
        await self.write_once(denominations.create, self.body(), self.now(), status=201)


class DenominationHandler(CashHandler):
    bodies = {"put": DenominationUpdateBody}
    responses = {"get": OneDenomination, "put": DenominationWritten, "delete": Done}
    once = ("put", "delete")

    async def get(self, uuid):
        """One of the branch's denominations by uuid, active or not."""
        self.write_json(await self.actor_run(denominations.get, uuid))

    async def put(self, uuid):
        """Change the fields given of one of the branch's denominations."""
        body = self.body()
        await self.write_once(denominations.update, uuid, body, self.now())

    async def delete(self, uuid):
        """Delete a denomination (deactivated instead once a count has used it)."""
        await self.write_once(denominations.delete, uuid, self.now())


class DailyReportHandler(CashHandler):
    queries = {"get": DayQuery}
    responses = {"get": DayReport}

    async def get(self):
        """Branchline's Z report of a business day (date, default today, the branch's
        calendar): {date, totals, sessions: [session summaries]}."""
        self.write_json(await self.actor_run(cash_register.day_report, self.query().date,
                                             self.now()))


default_handlers = [
    (PREFIX + "/registers", RegistersHandler),
    (PREFIX + "/registers/" + REGISTER, RegisterHandler),
    (PREFIX + "/sessions", SessionsHandler),
    (PREFIX + "/sessions/active", ActiveSessionHandler),
    (PREFIX + "/sessions/open", OpenSessionHandler),
    (PREFIX + "/sessions/" + SESSION, SessionHandler),
    (PREFIX + "/sessions/" + SESSION + "/close", CloseSessionHandler),
    (PREFIX + "/sessions/" + SESSION + "/summary", SummaryHandler),
    (PREFIX + "/sessions/" + SESSION + "/transactions", TransactionsHandler),
    (PREFIX + "/transactions/cash-in", CashInHandler),
    (PREFIX + "/transactions/cash-out", CashOutHandler),
    (PREFIX + "/transactions/safe-drop", SafeDropHandler),
    (PREFIX + "/denominations", DenominationsHandler),
    (PREFIX + "/denominations/" + UUID, DenominationHandler),
    (PREFIX + "/reports/daily", DailyReportHandler),
]
