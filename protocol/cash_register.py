"""The cash drawer: registers, sessions (shifts), the cash that moves, the count.

A user opens a session on a register with a float; while it is open, every cash
payment they take is a ``cash_sale`` and every cash refund they give a
``refund`` in it, written in the payment's own transaction (``record_payment``,
``record_refund``); cash-ins, cash-outs and safe drops are theirs to record.
At close they count the drawer (an amount, or denomination counts, or both,
which must agree) and the server states what should be there:

    expected = opening float + cash sales + cash in - cash out - safe drops - refunds

(``expected_cash``, the one place). The TableTrack module counts the float twice
(once from the session, once from its ``opening_float`` transaction) and lets the
client send its own "expected"; neither happens here: the ``opening_float``
transaction is listed for the record and left out of the sum, and a client's
``expected_cash`` is ignored.

At most one open session per register and per user in a branch: checked and
inserted in one transaction (the Store's single writer), and held by partial
unique indexes (protocol/models.py) where several writers could race. Registers
are never deleted, only deactivated, and not while a session is open on them.
Denominations (protocol/denominations.py) are the branch's coins and notes.
"""

import peewee

from . import branches, models, permissions
from .database import database
from .errors import Conflict, NotFound, ValidationFailed
from .money import ZERO, to_money

OPENING_FLOAT, CASH_SALE, REFUND = "opening_float", "cash_sale", "refund"
CASH_IN, CASH_OUT, SAFE_DROP = "cash_in", "cash_out", "safe_drop"
# The sign of each type in the drawer; opening_float is the session's own float.
SIGNS = {CASH_SALE: 1, CASH_IN: 1, CASH_OUT: -1, SAFE_DROP: -1, REFUND: -1}
# Who may record each movement the API takes (cash sales and refunds come from payments).
MOVEMENT_ACTIONS = {CASH_IN: "cash.move", CASH_OUT: "cash.move", SAFE_DROP: "cash.safe_drop"}
SESSIONS_PER_PAGE = 15
Session = models.CashRegisterSession
Transaction = models.CashRegisterTransaction


# --- registers ------------------------------------------------------------------------

def register_shape(register):
    return {"id": register.id, "name": register.name, "is_active": register.is_active,
            "branch_id": register.branch_id, "restaurant_id": register.restaurant_id,
            "created_at": register.created_at, "updated_at": register.updated_at}


def _register(actor, register_id, message="Cash register not found"):
    return models.in_branch(models.CashRegister, actor.branch_id, register_id, "Cash register",
                            message=message)


def list_registers(actor):
    """GET /registers: every register of the branch, inactive ones too, by name."""
    permissions.require(actor, "cash.view")
    query = (models.CashRegister.select().where(models.CashRegister.branch == actor.branch_id)
             .order_by(models.CashRegister.name, models.CashRegister.id))
    return {"success": True, "data": [register_shape(r) for r in query]}


def get_register(actor, register_id):
    permissions.require(actor, "cash.view")
    return {"success": True, "data": register_shape(_register(actor, register_id))}


def create_register(actor, body, now):
    permissions.require(actor, "cash.manage")
    register = models.CashRegister.create(
        restaurant=actor.restaurant_id, branch=actor.branch_id, name=body.name,
        is_active=True if body.is_active is None else body.is_active,
        created_at=now, updated_at=now)
    data = {k: v for k, v in register_shape(register).items() if k not in (
        "created_at", "updated_at")}
    return {"success": True, "message": "Cash register created successfully", "data": data}


def _has_open_session(register):
    return Session.select().where((Session.cash_register == register.id)
                                  & (Session.status == "open")).exists()


def update_register(actor, register_id, body, now):
    permissions.require(actor, "cash.manage")
    register = _register(actor, register_id)
    if body.name is not None:
        register.name = body.name
    if body.is_active is not None:
        if not body.is_active and register.is_active and _has_open_session(register):
            raise Conflict("Cannot deactivate register with an active session")
        register.is_active = body.is_active
    register.updated_at = now
    register.save()
    return {"success": True, "message": "Cash register updated successfully",
            "data": {"id": register.id, "name": register.name, "is_active": register.is_active}}


def deactivate_register(actor, register_id, now):
    """DELETE /registers/{id}: deactivate (registers keep their history); 409 while a
    session is open on it."""
    permissions.require(actor, "cash.manage")
    register = _register(actor, register_id)
    if _has_open_session(register):
        raise Conflict("Cannot deactivate register with an active session")
    register.is_active = False
    register.updated_at = now
    register.save()
    return {"success": True, "message": "Cash register deactivated successfully"}


# --- what a session holds -----------------------------------------------------------------

def totals(session):
    """{type: Σ amount} of the session's transactions (every type, 0 when none)."""
    found = dict.fromkeys(list(SIGNS) + [OPENING_FLOAT], ZERO)
    query = (Transaction.select(Transaction.type, peewee.fn.SUM(Transaction.amount))
             .where(Transaction.session == session.id).group_by(Transaction.type).tuples())
    for kind, cents in query:
        found[kind] = models.CashRegisterTransaction.amount.python_value(cents)
    return found


def expected_cash(session, sums):
    """What the drawer should hold: the float plus every movement, each counted once."""
    return to_money(session.opening_float + sum(
        (sign * sums[kind] for kind, sign in SIGNS.items()), ZERO))


def _person(user_id):
    user = models.User.get_or_none(models.User.id == user_id) if user_id else None
    return {"id": user.id, "name": user.name} if user else None


def transaction_shape(row):
    return {"id": row.id, "type": row.type, "amount": row.amount,
            "running_amount": row.running_amount, "reason": row.reason,
            "reference": row.reference, "happened_at": row.happened_at,
            "created_by": row.created_by_id, "order_id": row.order_id,
            "payment_id": row.payment_id}


def _transactions(session):
    return [transaction_shape(t) for t in Transaction.select().where(
        Transaction.session == session.id).order_by(Transaction.happened_at.desc(),
                                                    Transaction.id.desc())]


def session_shape(session, *, with_transactions=False):
    """The module's formatSession, with the expected cash of an open session stated
    (the module shows 0 until the close) and refunds' total added."""
    sums = totals(session)
    register = models.CashRegister.get_or_none(models.CashRegister.id == session.cash_register_id)
    count = Transaction.select().where(Transaction.session == session.id).count()
    expected = (session.expected_cash if session.status == "closed"
                else expected_cash(session, sums))
    shape = {
        "id": session.id,
        "cash_register": {"id": register.id, "name": register.name} if register else None,
        "cash_register_id": session.cash_register_id,
        "opened_by": _person(session.opened_by_id), "opened_at": session.opened_at,
        "opening_float": session.opening_float,
        "closed_by": _person(session.closed_by_id), "closed_at": session.closed_at,
        "expected_cash": expected if expected is not None else ZERO,
        "counted_cash": session.counted_cash or ZERO,
        "discrepancy": session.discrepancy or ZERO,
        "status": session.status, "closing_note": session.closing_note,
        "transactions_count": count, "cash_sales_total": sums[CASH_SALE],
        "cash_in_total": sums[CASH_IN], "cash_out_total": sums[CASH_OUT],
        "safe_drops_total": sums[SAFE_DROP], "refunds_total": sums[REFUND],
        "running_total": expected_cash(session, sums),
    }
    if with_transactions:
        shape["transactions"] = _transactions(session)
    return shape


def _session(actor, session_id, message="Session not found"):
    return models.in_branch(Session, actor.branch_id, session_id, "Session", message=message)


def open_session_of(branch_id, user_id):
    """The user's open session in the branch, or None."""
    return Session.get_or_none((Session.branch == branch_id) & (Session.opened_by == user_id)
                               & (Session.status == "open"))


# --- reading sessions -------------------------------------------------------------------------

def _zone(actor):
    return branches.branch_zone(models.Branch.get_by_id(actor.branch_id))


def list_sessions(actor, query):
    """GET /sessions: the branch's sessions, newest first, filtered, 15 a page."""
    permissions.require(actor, "cash.view")
    rows = Session.select().where(Session.branch == actor.branch_id)
    if query.status:
        rows = rows.where(Session.status == query.status)
    if query.cash_register_id:
        rows = rows.where(Session.cash_register == query.cash_register_id)
    if query.opened_by:
        rows = rows.where(Session.opened_by == query.opened_by)
    zone = _zone(actor)
    if query.date_from:     # the branch's own calendar days
        rows = rows.where(Session.opened_at >= branches.day_bounds(query.date_from, zone)[0])
    if query.date_to:
        rows = rows.where(Session.opened_at < branches.day_bounds(query.date_to, zone)[1])
    per_page, page = query.per_page or SESSIONS_PER_PAGE, query.page or 1
    total = rows.count()
    data = [session_shape(s) for s in rows.order_by(Session.opened_at.desc(), Session.id.desc())
            .paginate(page, per_page)]
    return {"success": True, "data": data, "meta": {
        "current_page": page, "last_page": max(1, -(-total // per_page)),
        "per_page": per_page, "total": total}}


def active_session(actor):
    """GET /sessions/active: the caller's own open session in the branch."""
    permissions.require(actor, "cash.view")
    session = open_session_of(actor.branch_id, actor.user_id)
    if session is None:
        raise NotFound("No active session found")
    return {"success": True, "data": session_shape(session, with_transactions=True)}


def get_session(actor, session_id):
    permissions.require(actor, "cash.view")
    return {"success": True,
            "data": session_shape(_session(actor, session_id), with_transactions=True)}


def session_transactions(actor, session_id):
    permissions.require(actor, "cash.view")
    return {"success": True, "data": _transactions(_session(actor, session_id))}


def _summary(session):
    sums = totals(session)
    running = expected_cash(session, sums)
    return {
        "session": session_shape(session),
        "totals": {"opening_float": session.opening_float, "cash_sales": sums[CASH_SALE],
                   "cash_in": sums[CASH_IN], "cash_out": sums[CASH_OUT],
                   "safe_drops": sums[SAFE_DROP], "refunds": sums[REFUND],
                   "running_total": running},
        "expected_cash": session.expected_cash if session.status == "closed" else running,
        "counted_cash": session.counted_cash or ZERO,
        "discrepancy": session.discrepancy or ZERO,
        "transactions_count": Transaction.select().where(
            Transaction.session == session.id).count(),
    }


def summary(actor, session_id):
    """GET /sessions/{id}/summary: the session's Z report."""
    permissions.require(actor, "cash.view")
    return {"success": True, "data": _summary(_session(actor, session_id))}


def day_report(actor, day, now):
    """GET /reports/daily: the Z report of a business day (the branch's own date,
    today by default): each session opened that day and their sums."""
    permissions.require(actor, "cash.view")
    branch = models.Branch.get_by_id(actor.branch_id)
    day = day or branches.local_today(branch, now)
    start, end = branches.day_bounds(day, branches.branch_zone(branch))
    sessions = Session.select().where((Session.branch == actor.branch_id)
                                      & (Session.opened_at >= start) & (Session.opened_at < end))
    reports = [_summary(s) for s in sessions.order_by(Session.opened_at, Session.id)]
    keys = ("opening_float", "cash_sales", "cash_in", "cash_out", "safe_drops", "refunds",
            "running_total")
    day_totals = {k: sum((r["totals"][k] for r in reports), ZERO) for k in keys}
    closed = [r for r in reports if r["session"]["status"] == "closed"]
    day_totals.update(
        counted_cash=sum((r["counted_cash"] for r in closed), ZERO),
        discrepancy=sum((r["discrepancy"] for r in closed), ZERO),
        sessions=len(reports), open_sessions=len(reports) - len(closed))
    return {"success": True, "data": {"date": day.isoformat(), "totals": day_totals,
                                      "sessions": reports}}


# --- opening, moving cash, closing ------------------------------------------------------------

def _add(session, kind, amount, user_id, now, *, reason=None, reference=None, order=None,
         payment=None):
    last = (Transaction.select(Transaction.running_amount)
            .where(Transaction.session == session.id)
            .order_by(Transaction.happened_at.desc(), Transaction.id.desc()).first())
    running = last.running_amount if last is not None else session.opening_float
    if kind != OPENING_FLOAT:
        running = running + SIGNS[kind] * amount
    return Transaction.create(
        session=session.id, restaurant=session.restaurant_id, branch=session.branch_id,
        happened_at=now, type=kind, amount=amount, running_amount=running, reason=reason,
        reference=reference, order=order, payment=payment, created_by=user_id,
        created_at=now, updated_at=now)


def open_session(actor, body, now):
    """POST /sessions/open, in the module's order of checks."""
    permissions.require(actor, "cash.open")
    with database.atomic():
        mine = open_session_of(actor.branch_id, actor.user_id)
        if mine is not None:
            raise Conflict("You already have an active session", data={"session_id": mine.id})
        register = _register(actor, body.cash_register_id, "Cash register not found or inactive")
        if not register.is_active:
            raise NotFound("Cash register not found or inactive")
        if _has_open_session(register):
            raise Conflict("This register already has an active session")
        opening = to_money(body.opening_float)
        try:
            with database.atomic():
                session = Session.create(
                    cash_register=register.id, restaurant=register.restaurant_id,
                    branch=register.branch_id, opened_by=actor.user_id, opened_at=now,
                    opening_float=opening, status="open", created_at=now, updated_at=now)
        except peewee.IntegrityError:
            # Another writer (a second cloud process) won the race the checks above lost.
            raise Conflict("This register already has an active session")
        if opening > 0:
            _add(session, OPENING_FLOAT, opening, actor.user_id, now,
                 reason=body.note or "Opening float")
        return {"success": True, "message": "Session opened successfully",
                "data": session_shape(session)}


def move_cash(actor, kind, body, now):
    """POST /transactions/cash-in | cash-out | safe-drop, on the caller's own session."""
    permissions.require(actor, MOVEMENT_ACTIONS[kind])
    with database.atomic():
        session = open_session_of(actor.branch_id, actor.user_id)
        if session is None:
            raise NotFound("No active session found. Please open a session first.")
        row = _add(session, kind, to_money(body.amount), actor.user_id, now,
                   reason=body.reason, reference=body.reference)
        return {"success": True, "message": "Transaction recorded successfully",
                "data": {"id": row.id, "type": row.type, "amount": row.amount,
                         "running_amount": row.running_amount, "session_id": session.id}}


def _counts(actor, entries):
    """[(denomination, count, subtotal)] of the close's denomination counts, each a
    coin or note of this branch (the module looks them up anywhere)."""
    found = []
    for i, entry in enumerate(entries):
        denomination = models.Denomination.get_or_none(
            (models.Denomination.id == entry.denomination_id)
            & (models.Denomination.branch == actor.branch_id))
        if denomination is None:
            raise ValidationFailed.field("denomination_counts.%d.denomination_id" % i,
                                         "The selected denomination counts.%d.denomination id "
                                         "is invalid." % i)
        found.append((denomination, entry.count, to_money(denomination.value * entry.count)))
    return found


def close_session(actor, session_id, body, now):
    """POST /sessions/{id}/close: count the drawer against what the server expects."""
    with database.atomic():
        session = Session.get_or_none((Session.id == session_id)
                                      & (Session.branch == actor.branch_id)
                                      & (Session.status == "open"))
        if session is None:
            raise NotFound("Session not found or already closed")
        permissions.require(actor, "cash.close" if session.opened_by_id == actor.user_id
                            else "cash.close_any")
        counts = _counts(actor, body.denomination_counts or [])
        counted_total = sum((subtotal for _, _, subtotal in counts), ZERO)
        if body.counted_cash is None and not counts:
            raise ValidationFailed.field("counted_cash", "The counted cash field is required.")
        counted = to_money(body.counted_cash) if body.counted_cash is not None else counted_total
        if counts and counted != counted_total:
            raise ValidationFailed.field(
                "counted_cash", "The counted cash (%s) is not the sum of the denomination "
                                "counts (%s)." % (counted, counted_total))
        expected = expected_cash(session, totals(session))
        session.closed_by, session.closed_at = actor.user_id, now
        session.expected_cash, session.counted_cash = expected, counted
        session.discrepancy = counted - expected
        session.status, session.closing_note = "closed", body.closing_note
        session.updated_at = now
        session.save()
        for denomination, count, subtotal in counts:
            models.CashRegisterCount.create(session=session.id, denomination=denomination.id,
                                            count=count, subtotal=subtotal, created_at=now,
                                            updated_at=now)
        return {"success": True, "message": "Session closed successfully", "data": {
            "id": session.id, "expected_cash": expected, "counted_cash": counted,
            "discrepancy": session.discrepancy, "status": "closed", "closed_at": now}}


# --- cash taken and given back by payments (protocol/payments.py, protocol/orders.py) ---------

def record_payment(actor, payment, order, now):
    """A cash payment lands in the payer's open drawer (what was applied: change handed
    back never stayed in it). Called in the payment's own transaction."""
    if payment.payment_method != "cash" or payment.amount <= 0:
        return None
    session = open_session_of(order.branch_id, actor.user_id)
    if session is None:
        return None
    return _add(session, CASH_SALE, payment.amount, actor.user_id, now,
                reference=order.formatted_order_number, order=order.id, payment=payment.id)


def record_refund(actor, order, now):
    """A cancelled order's cash goes back to the customer from the canceller's open
    drawer: the cash applied to it, as one refund. Called in the cancel's transaction."""
    cash = (models.Payment.select(peewee.fn.SUM(models.Payment.amount))
            .where((models.Payment.order == order.id) & (models.Payment.payment_method == "cash"))
            .scalar())
    amount = models.Payment.amount.python_value(cash) if cash else ZERO
    session = open_session_of(order.branch_id, actor.user_id)
    if amount <= 0 or session is None:
        return None
    return _add(session, REFUND, amount, actor.user_id, now,
                reference=order.formatted_order_number, order=order.id)
