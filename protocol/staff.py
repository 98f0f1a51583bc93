"""Staff and the restaurant's platform settings, as companion apps read them.

Waiters (or any role) of the branch, with the delivery role merging the
branch's delivery executives; delivery executives; the restaurant's roles,
staff and permissions; languages, currencies, payment gateways, printers and
receipt settings. Plain functions run in a Store thread with the Actor: rows
are scoped to ``actor.branch_id`` or ``actor.restaurant_id``, never another
tenant's. Payment gateways answer names and modes only: the ``secret`` column
is never even read.
"""

from peewee import JOIN, fn

from . import accounts, models, rider_states
from . import permissions as permissions_rules   # permissions() is a route here
from .errors import ValidationFailed

EXECUTIVE_STATUSES = ["available", "on_delivery", "inactive"]


def _role_names(actor):
    role = models.Role
    return [r.name for r in role.select(role.name).where(role.restaurant == actor.restaurant_id)
            .order_by(role.name)]


def _granted(user):
    return permissions_rules.held_names(accounts.permission_map(user))


def _user_row(user, branch_id, with_permissions):
    row = {"id": user.id, "name": user.name, "email": user.email, "phone": user.phone,
           "phone_code": user.phone_code, "roles": accounts.role_names(user),
           "branch_id": branch_id, "is_delivery_staff": False}
    if with_permissions:
        row["permissions"] = _granted(user)
    return row


def _executive_row(executive, state):
    return {"id": executive.id, "branch_id": executive.branch_id, "name": executive.name,
            "phone": executive.phone, "phone_code": executive.phone_code,
            "status": rider_states.status_of(executive, state),
            "location": rider_states.location_of(state), "is_delivery_staff": True}


def waiters(actor, role="waiter", include_permissions=False):
    """GET /pos/waiters: the branch's active users with ``role`` (default waiter); the
    delivery role also lists the branch's delivery executives (is_delivery_staff)."""
    role = (role or "waiter").strip().lower()
    known = _role_names(actor)
    if role not in known:
        raise ValidationFailed.field("role", "The selected role is invalid.", allowed=known)
    user, link, user_role, role_row = (models.User, models.UserBranch, models.UserRole,
                                       models.Role)
    with_role = (user_role.select(user_role.user).join(role_row)
                 .where((role_row.name == role) & (role_row.restaurant == actor.restaurant_id)))
    query = (user.select().join(link, on=(link.user == user.id))
             .where((link.branch == actor.branch_id) & (user.restaurant == actor.restaurant_id) &
                    user.is_active & user.id.in_(with_role))
             .order_by(user.name, user.id))
    rows = [_user_row(u, actor.branch_id, include_permissions) for u in query]
    if role == "delivery":
        rows += [dict(row, email=None, roles=["delivery"],
                      **({"permissions": []} if include_permissions else {}))
                 for row in _executives(actor)]
    return rows


def _executives(actor, status=None, search=None):
    """The branch's riders as listed (their live status: protocol/rider_states.py)."""
    executive = models.DeliveryExecutive
    query = executive.select().where(executive.branch == actor.branch_id)
    if search:
        query = query.where(executive.name.contains(search) | executive.phone.contains(search))
    live = rider_states.states(actor.branch_id)
    rows = [_executive_row(e, live.get(e.id)) for e in query.order_by(executive.name,
                                                                      executive.id)]
    return [row for row in rows if not status or row["status"] == status]


def delivery_executives(actor, status=None, search=None):
    """GET /pos/delivery-executives: the branch's riders, filtered by status and by a
    search over name and phone."""
    status = (status or "").strip().lower()
    if status and status not in EXECUTIVE_STATUSES:
        raise ValidationFailed.field("status", "The selected status is invalid.",
                                     allowed=EXECUTIVE_STATUSES)
    return _executives(actor, status, search)


def roles(actor, with_permissions=False):
    """The restaurant's roles (never another tenant's) with how many permissions each
    has; ``with_permissions`` adds their names."""
    role, granted = models.Role, models.RolePermission
    query = (role.select(role, fn.COUNT(granted.id).alias("permissions_count"))
             .join(granted, JOIN.LEFT_OUTER, on=(granted.role == role.id))
             .where(role.restaurant == actor.restaurant_id)
             .group_by(role.id).order_by(role.id))
    rows = [{"id": r.id, "name": r.name, "display_name": r.display_name,
             "permissions_count": r.permissions_count} for r in query]
    if with_permissions:
        names = {}
        for link in (granted.select(granted.role.alias("role_id"), models.Permission.name)
                     .join(models.Permission).join_from(granted, role)
                     .where(role.restaurant == actor.restaurant_id)
                     .order_by(models.Permission.name).dicts()):
            names.setdefault(link["role_id"], []).append(link["name"])
        for row in rows:
            row["permissions"] = names.get(row["id"], [])
    return rows


def staff(actor):
    """GET /platform/staff: the restaurant's active users with roles and branches."""
    branch, link = models.Branch, models.UserBranch
    branches = {}
    for row in (link.select(link.user.alias("user_id"), branch.id, branch.name).join(branch)
                .where(branch.restaurant == actor.restaurant_id)
                .order_by(branch.id).dicts()):
        branches.setdefault(row["user_id"], []).append({"id": row["id"], "name": row["name"]})
    user = models.User
    return [{"id": u.id, "name": u.name, "email": u.email, "phone": u.phone,
             "phone_code": u.phone_code, "roles": accounts.role_names(u),
             "branches": branches.get(u.id, [])}
            for u in user.select().where((user.restaurant == actor.restaurant_id) &
                                         user.is_active).order_by(user.name, user.id)]


def permissions(actor):
    """GET /platform/permissions: the restaurant's roles (with their permissions'
    names); the names the caller holds (TableTrack's, as apps compare them), their
    permission_map, and every permission head office has created."""
    rows = list(models.Permission.select().order_by(models.Permission.module,
                                                     models.Permission.name))
    held = permissions_rules.permission_map(actor.roles, actor.permissions,
                                            [p.name for p in rows])
    return {"roles": roles(actor, with_permissions=True),
            "permissions": permissions_rules.held_names(held), "permission_map": held,
            "all_permissions": [{"id": p.id, "name": p.name, "module": p.module}
                                for p in rows]}


def languages(actor):
    language = models.Language
    return [{"id": lang.id, "code": lang.code, "name": lang.name, "is_active": lang.is_active,
             "is_rtl": lang.is_rtl} for lang in language.select().order_by(language.id)]


def currencies(actor):
    currency = models.Currency
    return [{"id": c.id, "currency_code": c.currency_code, "currency_name": c.currency_name,
             "currency_symbol": c.currency_symbol, "decimals": c.decimals}
            for c in currency.select().where(currency.restaurant == actor.restaurant_id)
            .order_by(currency.id)]


def payment_gateways(actor):
    """Names and modes only; the credentials column is not selected."""
    gateway = models.PaymentGateway
    return [{"id": g.id, "name": g.name, "mode": g.mode, "is_enabled": g.is_enabled}
            for g in gateway.select(gateway.id, gateway.name, gateway.mode, gateway.is_enabled)
            .where(gateway.restaurant == actor.restaurant_id).order_by(gateway.id)]


def printers(actor):
    printer = models.Printer
    return [{"id": p.id, "branch_id": p.branch_id, "name": p.name, "type": p.type,
             "address": p.address, "char_per_line": p.char_per_line, "is_default": p.is_default}
            for p in printer.select().where(printer.branch == actor.branch_id)
            .order_by(printer.is_default.desc(), printer.id)]


def receipt_settings(actor):
    """The branch's receipt settings (the defaults, with id null, when it has none)."""
    setting = (models.ReceiptSetting.get_or_none(models.ReceiptSetting.branch == actor.branch_id)
               or models.ReceiptSetting(id=None, branch=actor.branch_id))
    return {"id": setting.id, "branch_id": actor.branch_id, "header": setting.header,
            "footer": setting.footer, "show_tax": setting.show_tax,
            "show_table": setting.show_table, "show_customer": setting.show_customer}
