"""What each user may do: the one place role rules live.

One set of rules drives both what a user is told and what the server enforces.
Head office owns roles and permissions per restaurant (DESIGN.md, data
ownership): the restaurant's roles, the permission names, and which role has
which permission (``role_has_permissions``). Those rows are the single source.
Here each guarded action of the server names the permission(s) it needs, and
``may`` decides whether a user holds a permission:

- owners and admins (``EVERYTHING``) hold every permission of their restaurant;
- anyone else holds the permissions their roles are granted in the rows.

The ``permission_map`` a user gets at login and what ``require`` lets them do
both go through ``may`` with the same roles and grants, so they cannot
disagree. The map also names every permission an action here needs, even one
head office has not created yet (false unless the user is an owner or admin),
so no guarded action is missing from it.

The grants are loaded once per actor (protocol/accounts.py ``load_actor``,
remembered per node for a few seconds): a check costs no query, and a change of
a role's permissions at head office takes effect within that time.

An action that needs one of several permissions names them all: an order's
status is moved by whoever changes orders, works the kitchen or delivers.
``require`` raises 403 with a sentence a waiter understands.
"""

from .errors import Forbidden

EVERYTHING = frozenset({"owner", "admin"})
# Who sees the branch's floor as its admin, reads sync health and is told of new
# reservations and orders: the people who run the branch.
MANAGE = EVERYTHING | {"manager"}

# action: (permissions, any one of which allows it; what it is, in words)
RULES = {
    "order.create": (("Create Order",), "take orders"),
    "order.update": (("Update Order",), "change orders"),
    "order.cancel": (("Cancel Order",), "cancel orders"),
    "order.cancel_paid": (("Refund Payment",), "cancel an order that has been paid"),
    "order.status": (("Update Order", "Manage KOT", "Manage Delivery"),
                     "change an order's status"),
    "payment.take": (("Create Payment",), "take payments"),
    "table.unlock_any": (("Unlock Table",), "unlock a table another user holds"),
    "kot.update": (("Manage KOT",), "update kitchen tickets"),
    "kot.cancel": (("Manage KOT",), "cancel food already sent to the kitchen"),
    "reservation.manage": (("Create Reservation",), "take or change reservations"),
    "customer.manage": (("Manage Customers",),
                        "add, change or delete customers and their addresses"),
    # The cash drawer: cashiers and managers run it (SCENARIOS.md, closing time).
    "cash.view": (("Open Cash Register", "View Cash Register Reports"),
                  "see the cash drawers and their reports"),
    "cash.manage": (("Manage Cash Register",), "set up cash registers and denominations"),
    "cash.open": (("Open Cash Register",), "open a cash drawer"),
    "cash.move": (("Open Cash Register",), "put cash into or take cash out of a drawer"),
    "cash.safe_drop": (("Close Cash Register",), "drop cash from a drawer to the safe"),
    "cash.close": (("Close Cash Register",), "close a cash drawer"),
    # Delivery settings are head office's; a manager sets the branch's at the cloud.
    "delivery.settings": (("Manage Delivery Settings",), "change the delivery settings"),
    # Platforms and riders are head office's too; a rider's own role may not add riders.
    "delivery.staff": (("Manage Delivery Settings",),
                       "add or change delivery platforms and riders"),
    "cash.close_any": (("Approve Cash Register",), "close another user's cash drawer"),
    # Dispatch: who runs deliveries assigns riders (protocol/dispatch.py).
    "delivery.dispatch": (("Manage Delivery",), "assign riders to deliveries"),
    # Head office: every branch's orders, payments, sales and sync state (owners and
    # admins, and a role head office grants it to; not a branch's own manager).
    "head_office.view": (("View Head Office",),
                         "see every branch's orders, payments, sales and sync state"),
}

# The names companion apps check that are not head office's permission names
# (COMPAT.md): dotted capabilities, and TableTrack's own spellings. Each stands for
# an action above (held as that action is allowed) or a permission name.
CAPABILITIES = {
    "orders.view": "Show Order",
    "orders.create": "order.create",
    "orders.update": "order.update",
    "orders.cancel": "order.cancel",
    "tables.view": "Show Order",
    "tables.lock": "order.create",          # a table is locked by taking an order on it
    "payments.charge": "payment.take",
    "payments.refund": "order.cancel_paid",
    "kitchen.view": "Manage KOT",
    "kitchen.manage": "kot.update",
    "reservations.manage": "reservation.manage",
    "customers.manage": "customer.manage",
    "cash.manage": "cash.manage",
    "delivery.manage": "Manage Delivery",
    "reports.view": "Show Reports",
    "head_office.view": "head_office.view",
    # TableTrack's names where head office's differ or are missing
    "Refund Payments": "order.cancel_paid",
    "Show Payments": "payment.take",
    "Manage Waiter Request": "order.update",
}


def _needs(name):
    """The permissions, any one of which allows an action or capability ``name``."""
    name = CAPABILITIES.get(name, name)
    return RULES[name][0] if name in RULES else (name,)


# Every permission some action or capability needs.
NEEDED = frozenset(need for name in list(RULES) + list(CAPABILITIES) for need in _needs(name))


def may(roles, granted, permission):
    """Whether a user with ``roles`` whose roles are ``granted`` these permission
    names holds ``permission``."""
    return bool(EVERYTHING.intersection(roles)) or permission in granted


def _holds(roles, granted, name):
    return any(may(roles, granted, need) for need in _needs(name))


def permission_map(roles, granted, names):
    """{name: bool} over ``names`` (the permissions head office has created), every
    permission an action needs, and every capability name apps check."""
    return {name: _holds(roles, granted, name)
            for name in sorted(NEEDED.union(names)) + sorted(CAPABILITIES)}


def held_names(permission_map):
    """The permission names (head office's and TableTrack's, not the dotted
    capabilities) a map grants: what ``/platform/permissions`` lists."""
    return [name for name, held in permission_map.items() if held and "." not in name]


def allowed(actor, action):
    return _holds(actor.roles, actor.permissions, action)


def require(actor, action):
    if not allowed(actor, action):
        raise Forbidden("Your role may not %s." % RULES[action][1])


def is_manager(roles):
    return bool(MANAGE.intersection(roles))
