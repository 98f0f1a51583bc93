"""Head office: one restaurant's branches read together.

Who: whoever holds ``head_office.view`` (protocol/permissions.py): owners and
admins, and a role head office grants "View Head Office"; a branch's own
manager, a waiter or a chef is refused (403). Which branches: every branch of
the caller's restaurant (never another restaurant's), of those the node serves:
the cloud serves every branch, an edge holds its own branch only, so at an edge
these reads answer for that branch and a ``branch_id`` of another branch is a
403 saying to ask the cloud. A ``branch_id`` that names no branch of the
restaurant is a 422 on the field.

The lists are the per-branch lists' own queries, filters and shapes
(protocol/orders.py, kitchen.py, reservations.py, payments.py) over several
branches, each row naming its branch; the day of a row is its branch's local day.
"""

from . import kitchen, models, orders, payments, permissions, reservations, sales
from .errors import Forbidden, ValidationFailed


def branches_seen(actor, serves, branch_id=None):
    """The branches (rows, by id) the caller reads here: the restaurant's that this
    node serves (``serves(id)``), or the one ``branch_id`` names."""
    permissions.require(actor, "head_office.view")
    rows = list(models.Branch.select().where(models.Branch.restaurant == actor.restaurant_id)
                .order_by(models.Branch.id))
    if branch_id is not None:
        rows = [branch for branch in rows if branch.id == branch_id]
        if not rows:
            raise ValidationFailed.field("branch_id", "The selected branch id is invalid.")
        if not serves(branch_id):
            raise Forbidden("This server holds its own branch's data only, not %s's: ask "
                            "the cloud for %s." % (rows[0].name, rows[0].name))
    return [branch for branch in rows if serves(branch.id)]


def _named(rows, answer):
    """answer (a page of ``rows``' rows), each row naming its branch."""
    names = {branch.id: branch.name for branch in rows}
    answer["data"] = [dict(row, branch=names[row["branch_id"]]) for row in answer["data"]]
    return answer


def order_page(actor, serves, filters, path):
    """GET /head-office/orders: the branches' orders, newest first."""
    rows = branches_seen(actor, serves, filters.get("branch_id"))
    query = models.Order.select().where(models.Order.branch.in_([b.id for b in rows]))
    return _named(rows, orders.orders_page(query, filters, path))


def kot_list(actor, serves, filters, now):
    """GET /head-office/kots: the branches' KOTs of one day, each its own local day."""
    rows = branches_seen(actor, serves, filters.branch_id)
    return _named(rows, kitchen.day_kots(rows, filters, now))


def reservation_page(actor, serves, filters, path):
    """GET /head-office/reservations: the branches' reservations, latest first."""
    rows = branches_seen(actor, serves, filters.get("branch_id"))
    return _named(rows, reservations.reservations_page(rows, filters, path))


def payment_page(actor, serves, filters, path):
    """GET /head-office/payments: the branches' payments, newest first."""
    rows = branches_seen(actor, serves, filters.get("branch_id"))
    return _named(rows, payments.payments_page(rows, filters, path))


def sales_summary(actor, serves, filters, now):
    """GET /head-office/sales: protocol/sales.py for the branches."""
    rows = branches_seen(actor, serves, filters.branch_id)
    return sales.daily_sales(rows, filters.date_from, filters.date_to, now)


CLOUD_SERVED = {
    "served_by": "cloud", "node_id": None, "online": True, "listening": None,
    "last_seen_at": None,
    "seconds_since_seen": None, "outbox_depth": 0, "outbox_reported_at": None,
    "feed_lag": 0, "last_push_at": None, "last_pull_at": None, "dead_letters": 0,
    "message": "No edge runs this branch: the cloud serves it and holds every change.",
}


def branch_states(actor, serves, branch_id, sync_states, now):
    """GET /head-office/branches: each branch and its sync state. ``sync_states(now,
    branch ids)`` is the node's (sync/status.py, passed in by the composition root):
    {branch id: state} of the branches an edge runs; any other branch is served by
    the cloud itself, and says so."""
    rows = branches_seen(actor, serves, branch_id)
    states = sync_states(now, [branch.id for branch in rows]) if sync_states else {}
    return {"success": True, "message": "Branches and their sync state.", "data": [
        {"id": branch.id, "name": branch.name, "address": branch.address,
         "timezone": branch.timezone, "sync": states.get(branch.id) or dict(CLOUD_SERVED)}
        for branch in rows]}
