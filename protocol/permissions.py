"""What each role may do: the one place role rules live.

Owners and admins may do everything in their restaurant; managers and cashiers
run the floor and the till of their branch; waiters take and serve orders;
chefs work the kitchen; riders deliver. A rule is checked by ``require``,
which raises 403 with a sentence a waiter understands.
"""

from .errors import Forbidden

MANAGE = frozenset({"owner", "admin", "manager"})
TILL = MANAGE | {"cashier"}
FLOOR = TILL | {"waiter"}
KITCHEN = MANAGE | {"chef"}

RULES = {
    "order.create": (FLOOR | {"delivery"}, "take orders"),
    "order.update": (FLOOR, "change orders"),
    "order.cancel": (FLOOR, "cancel orders"),
    "order.cancel_paid": (MANAGE, "cancel an order that has been paid"),
    "order.status": (FLOOR | KITCHEN | {"delivery"}, "change an order's status"),
    "payment.take": (FLOOR, "take payments"),
    "table.unlock_any": (MANAGE | {"cashier"}, "unlock a table another user holds"),
    "kot.update": (FLOOR | KITCHEN, "update kitchen tickets"),
    "reservation.manage": (FLOOR, "take or change reservations"),
    "customer.manage": (FLOOR, "add, change or delete customers and their addresses"),
}


def allowed(roles, action):
    allowed_roles, _ = RULES[action]
    return bool(set(roles) & allowed_roles)


def require(roles, action):
    if not allowed(roles, action):
        raise Forbidden("Your role may not %s." % RULES[action][1])


def is_manager(roles):
    return bool(set(roles) & MANAGE)
