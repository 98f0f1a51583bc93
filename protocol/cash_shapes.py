"""The shapes of the cash drawer's and MultiPOS devices' 2xx answers, for the OpenAPI
document (protocol/cash_register.py, protocol/denominations.py, protocol/multipos.py
return them; conventions as in protocol/shapes.py)."""

from typing import Literal, Optional

from .shapes import Amount, Done, Shape, Stamp


class Register(Shape):
    id: int
    name: str
    is_active: bool
    branch_id: int
    restaurant_id: int
    created_at: Optional[Stamp] = None
    updated_at: Optional[Stamp] = None


class Registers(Shape):
    success: Literal[True]
    data: list[Register]


class OneRegister(Shape):
    success: Literal[True]
    data: Register


class RegisterWritten(Done):
    data: Register


class CashPerson(Shape):
    id: int
    name: str


class RegisterRef(Shape):
    id: int
    name: str


class Transaction(Shape):
    id: int
    type: str
    amount: Amount
    running_amount: Amount
    reason: Optional[str]
    reference: Optional[str]
    happened_at: Stamp
    created_by: Optional[int]
    order_id: Optional[int]
    payment_id: Optional[int]


class Session(Shape):
    id: int
    cash_register: Optional[RegisterRef]
    cash_register_id: int
    opened_by: Optional[CashPerson]
    opened_at: Stamp
    opening_float: Amount
    closed_by: Optional[CashPerson]
    closed_at: Optional[Stamp]
    expected_cash: Amount
    counted_cash: Amount
    discrepancy: Amount
    status: Literal["open", "closed"]
    closing_note: Optional[str]
    transactions_count: int
    running_total: Amount
    transactions: list[Transaction] = []


class SessionsMeta(Shape):
    current_page: int
    last_page: int
    per_page: int
    total: int


class Sessions(Shape):
    success: Literal[True]
    data: list[Session]
    meta: SessionsMeta


class OneSession(Shape):
    success: Literal[True]
    data: Session


class SessionOpened(Done):
    data: Session


class Transactions(Shape):
    success: Literal[True]
    data: list[Transaction]


class Totals(Shape):
    opening_float: Amount
    cash_sales: Amount
    cash_in: Amount
    cash_out: Amount
    safe_drops: Amount
    refunds: Amount
    running_total: Amount


class Report(Shape):
    session: Session
    totals: Totals
    expected_cash: Amount
    counted_cash: Amount
    discrepancy: Amount
    transactions_count: int


class SessionSummary(Shape):
    success: Literal[True]
    data: Report


class DayTotals(Totals):
    counted_cash: Amount
    discrepancy: Amount
    sessions: int
    open_sessions: int


class Day(Shape):
    date: str
    totals: DayTotals
    sessions: list[Report]


class DayReport(Shape):
    success: Literal[True]
    data: Day


class Movement(Shape):
    id: int
    type: str
    amount: Amount
    running_amount: Amount
    session_id: int


class Moved(Done):
    data: Movement


class Closing(Shape):
    id: int
    expected_cash: Amount
    counted_cash: Amount
    discrepancy: Amount
    status: Literal["closed"]
    closed_at: Stamp


class SessionClosed(Done):
    data: Closing


class Denomination(Shape):
    id: int
    uuid: str
    name: str
    value: Amount
    type: str
    is_active: bool


class Denominations(Shape):
    success: Literal[True]
    data: list[Denomination]


class OneDenomination(Shape):
    success: Literal[True]
    data: Denomination


class DenominationWritten(Done):
    data: Denomination


class Machine(Shape):
    id: int
    branch_id: int
    alias: Optional[str]
    public_id: str
    token: Optional[str]
    status: str
    device_id: str
    platform: Optional[str]
    approved_at: Optional[Stamp]
    last_seen_at: Optional[Stamp]


class MachineRegistered(Done):
    data: Machine


class MachineCheck(Shape):
    success: Literal[True]
    needs_registration: bool
    data: Optional[Machine] = None
