"""Riders as the rider app signs them in (protocol/partner.py): found by their login
code, and acting as a ``RiderActor``, as ``accounts.Actor`` is a user acting
through the POS.

A rider's login code is stored hashed (scrypt, protocol/riders.py); its first
HINT_LENGTH characters are kept in clear (``login_code_hint``) so a login tries the
few riders whose code starts alike, not every hash (the other ~39 bits of the code
stay behind scrypt).
"""

import hashlib

from . import accounts, models, passwords
from .errors import Forbidden, Unauthenticated
from .rider_states import state_of, status_of

Executive = models.DeliveryExecutive
HINT_LENGTH = 2
INACTIVE = "Partner account is inactive"


class RiderActor:
    """A rider behind a request of the rider app: their account row and branch."""

    def __init__(self, executive, restaurant_id):
        self.executive = executive
        self.executive_id = executive.id
        self.user_id = None
        self.name = executive.name
        self.branch_id = executive.branch_id
        self.restaurant_id = restaurant_id

    def __repr__(self):
        return "<RiderActor %s branch=%s>" % (self.executive_id, self.branch_id)


def rider_actor(executive_id, branch_id):
    """The RiderActor of a rider of branch_id: 401 when there is none (deleted, or of
    another branch), 403 when head office made the account inactive."""
    executive = Executive.get_or_none((Executive.id == executive_id) &
                                      (Executive.branch == branch_id))
    if executive is None:
        raise Unauthenticated()
    if status_of(executive, state_of(executive.id)) == "inactive":
        raise Forbidden(INACTIVE)
    return RiderActor(executive, models.Branch.get_by_id(branch_id).restaurant_id)


def find_by_code(code, branch_id=None):
    """The rider whose login code is ``code`` (of ``branch_id`` when given), or None.
    Candidates are those whose code starts alike (or made before hints were kept)."""
    code = (code or "").strip().upper()
    if not code or len(code) > 64:
        return None
    query = Executive.select().where(
        Executive.login_code_hash.is_null(False) &
        ((Executive.login_code_hint == code[:HINT_LENGTH]) |
         Executive.login_code_hint.is_null()))
    if branch_id is not None:
        query = query.where(Executive.branch == branch_id)
    for executive in query:
        if passwords.verify_password(code, executive.login_code_hash):
            return executive
    return None


def rider_by_code(code, branch_id=None):
    """find_by_code's rider as (id, branch id), remembered per node (by the code's SHA-256) for
    accounts.ACTOR_TTL_SECONDS, so an old app's code sent with every request costs one
    scrypt now and then, not one each time. None when no rider has it."""
    code = (code or "").strip().upper()
    key = (hashlib.sha256(code.encode()).hexdigest(), branch_id)

    def load():
        found = find_by_code(code, branch_id)
        return (found.id, found.branch_id) if found is not None else None
    return accounts.remembered("rider_codes", key, load)
