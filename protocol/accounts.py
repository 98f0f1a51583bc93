"""Users, their roles and branches: login, the user's shape, branch access.

Plain functions run in a Store thread (``await handler.run(fn, ...)``).
"""

from . import models, permissions
from .store import current_store
from .errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from .passwords import DUMMY_HASH, verify_password

CREDENTIALS_FAILED = "These credentials do not match our records."

MODULES = ["Menu", "Order", "Kot", "Payment", "Table", "Reservation", "Customer",
           "Staff", "Delivery", "Notification", "Settings"]


def role_names(user):
    return [r.name for r in models.Role.select(models.Role.name)
            .join(models.UserRole).where(models.UserRole.user == user)
            .order_by(models.Role.name)]


def granted_permissions(user):
    """The names of the permissions the user's roles are granted (head office's rows)."""
    return frozenset(p.name for p in models.Permission.select(models.Permission.name)
                     .join(models.RolePermission).join(models.Role).join(models.UserRole)
                     .where(models.UserRole.user == user))


def permission_map(user):
    """{permission name: bool}: what the user may do, by the rules the server enforces
    (protocol/permissions.py)."""
    names = [p.name for p in models.Permission.select(models.Permission.name)]
    return permissions.permission_map(role_names(user), granted_permissions(user), names)


def branch_ids(user):
    return [ub.branch_id for ub in models.UserBranch.select(models.UserBranch.branch)
            .where(models.UserBranch.user == user)]


def user_shape(user, branch_id=None):
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "restaurant_id": user.restaurant_id,
        "branch_id": branch_id if branch_id is not None else user.branch_id,
        "roles": role_names(user),
    }


def branch_for_login(user, serving_branch_id):
    """The branch a fresh token is scoped to, on a node serving serving_branch_id
    (None: the cloud, which serves every branch)."""
    allowed = branch_ids(user)
    if serving_branch_id is not None:
        if serving_branch_id not in allowed:
            branch = models.Branch.get_or_none(models.Branch.id == serving_branch_id)
            raise Forbidden("Your account is not assigned to %s, the branch this server "
                            "serves." % (branch.name if branch else "the branch"))
        return serving_branch_id
    if user.branch_id in allowed:
        return user.branch_id
    if not allowed:
        raise Forbidden("Your account is not assigned to any branch.")
    return allowed[0]


def authenticate(email, password, serving_branch_id):
    """The user and the branch to scope their token to, or a 422 on email."""
    user = models.User.get_or_none(models.User.email == email.lower())
    if user is None:
        verify_password(password, DUMMY_HASH)
        raise ValidationFailed.field("email", CREDENTIALS_FAILED)
    if not verify_password(password, user.password_hash) or not user.is_active:
        raise ValidationFailed.field("email", CREDENTIALS_FAILED)
    branch_id = branch_for_login(user, serving_branch_id)
    return {
        "user": user_shape(user, branch_id),
        "permission_map": permission_map(user),
        "restaurant_id": user.restaurant_id,
        "branch_id": branch_id,
    }


def active_user(user_id):
    user = models.User.get_or_none(models.User.id == user_id)
    if user is None or not user.is_active:
        raise NotFound("User not found.")
    return user


def me(user_id, branch_id):
    user = active_user(user_id)
    return {"user": user_shape(user, branch_id), "modules": MODULES,
            "permission_map": permission_map(user)}


def revoke(jti, expires_at):
    models.RevokedToken.insert(jti=jti, expires_at=expires_at).on_conflict_ignore().execute()


def branch_shape(branch):
    return {"id": branch.id, "name": branch.name}


def switch_branch(user_id, branch_id, serves, where, remember):
    """Check a switch to branch_id; ``serves(id)`` says whether this node answers
    for it, ``where(branch)`` words where it is served instead. ``remember``
    stores it as the user's current branch (only the cloud owns user rows)."""
    user = active_user(user_id)
    branch = models.Branch.get_or_none((models.Branch.id == branch_id) &
                                       (models.Branch.restaurant == user.restaurant_id))
    if branch is None:
        raise ValidationFailed.field("branch_id", "The selected branch id is invalid.")
    if branch.id not in branch_ids(user):
        raise Forbidden("You are not assigned to %s." % branch.name)
    if not serves(branch.id):
        raise Forbidden(where(branch))
    if remember and user.branch_id != branch.id:
        user.branch = branch
        user.save()
        current_store().memo.get("current_branches", {}).pop(user.id, None)
    return {"branch": branch_shape(branch), "user": user_shape(user, branch.id)}


def acting_branch(user_id, token_branch_id, serves):
    """The branch a token's request acts on. The user's current branch (users.branch_id,
    which switch-branch stores, as the module does) when it differs from the token's,
    is one of the user's branches and ``serves(id)`` (this node answers for it);
    else the token's own. So a switch moves every token of the user, and an edge
    keeps answering for its own branch only. Remembered per node for
    ACTOR_TTL_SECONDS, as actors are."""
    def load():
        user = models.User.get_or_none(models.User.id == user_id)
        current = user.branch_id if user is not None else None
        return current if current is not None and current in branch_ids(user) else None
    return _acting(remembered("current_branches", user_id, load), token_branch_id, serves)


def remembered_acting_branch(store, user_id, token_branch_id, serves):
    """``acting_branch`` as the node remembers it, or None when it does not (then run
    ``acting_branch`` in the Store). Safe from any thread: the event loop asks it
    first, so a busy tablet's request takes one trip to the Store, not two."""
    current = _fresh(store, "current_branches", user_id)
    return None if current is _MISSING else _acting(current, token_branch_id, serves)


def _acting(current, token_branch_id, serves):
    return current if current is not None and serves(current) else token_branch_id


def platform_config(user_id, branch_id, features):
    user = active_user(user_id)
    branch = models.Branch.get_by_id(branch_id)
    restaurant = branch.restaurant
    return {
        "user": user_shape(user, branch_id),
        "restaurant": {
            "id": restaurant.id, "name": restaurant.name, "hash": restaurant.hash,
            "currency": {"code": restaurant.currency_code, "symbol": restaurant.currency_symbol,
                         "decimals": restaurant.currency_decimals},
            "tax_mode": restaurant.tax_mode, "tax_inclusive": restaurant.tax_inclusive,
            "table_lock_timeout_minutes": restaurant.table_lock_timeout_minutes,
            "require_item_choices": restaurant.require_item_choices,
            "kot_requires_confirmation": restaurant.kot_requires_confirmation,
        },
        "branch": {"id": branch.id, "name": branch.name, "address": branch.address,
                   "timezone": branch.timezone},
        "features": features,
        "modules": MODULES,
    }


class Actor:
    """The user behind a request, as the domain operations see them."""

    def __init__(self, user, roles, branch_id, granted=()):
        self.user = user
        self.user_id = user.id
        self.name = user.name
        self.restaurant_id = user.restaurant_id
        self.branch_id = branch_id
        self.roles = frozenset(roles)
        self.permissions = frozenset(granted)   # names granted to the roles (see permissions)

    def __repr__(self):
        return "<Actor %s %s branch=%s>" % (self.user_id, sorted(self.roles), self.branch_id)


def actor_for(user, branch_id):
    """The Actor for ``user`` in ``branch_id``, with their roles and what they are granted."""
    return Actor(user, role_names(user), branch_id, granted_permissions(user))


ACTOR_TTL_SECONDS = 10.0


def forget_actors():
    """Drop this node's remembered actors (users or roles changed)."""
    current_store().memo.pop("actors", None)


_MISSING = object()


def _fresh(store, name, key):
    """What ``remembered`` holds for name and key while it is fresh, else _MISSING."""
    hit = store.memo.get(name, {}).get(key)
    if hit is not None and hit[1] > store.clock.monotonic():
        return hit[0]
    return _MISSING


def remembered(name, key, load):
    """load(), remembered per node under ``name`` and ``key`` for ACTOR_TTL_SECONDS."""
    store = current_store()
    value = _fresh(store, name, key)
    if value is not _MISSING:
        return value
    value = load()
    cache = store.memo.setdefault(name, {})
    if len(cache) > 10000:
        cache.clear()
    cache[key] = (value, store.clock.monotonic() + ACTOR_TTL_SECONDS)
    return value


def load_actor(auth):
    """The Actor for a verified token (its user must still be active).

    Remembered per node for ACTOR_TTL_SECONDS, so a busy tablet does not read
    its user and roles on every request; a deactivated user or a changed role
    takes effect within that time, as does a change of a role's permissions."""
    def load():
        user = models.User.get_or_none(models.User.id == auth.user_id)
        if (user is None or not user.is_active or user.restaurant_id != auth.restaurant_id
                or auth.branch_id not in branch_ids(user)):
            raise Unauthenticated()
        return actor_for(user, auth.branch_id)
    return remembered("actors", (auth.user_id, auth.branch_id), load)
