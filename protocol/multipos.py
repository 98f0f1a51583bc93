"""MultiPOS: till devices registered with a branch (MODULE-ROUTES.md §7).

A device registers with its ``device_id`` in a branch of the caller's own
restaurant (and the branch the caller's token is for: a branch's devices are
its data, written where that branch is served). The module hands every
device's token to anyone who asks, ``check`` across tenants; here a token is
shown once, when it is issued, and only its SHA-256 is kept. Registering a known
device again issues a fresh token (the old one stops being the device's), so an
app that lost its token recovers, and nobody can read another device's token.
``check`` answers the device's state without a token. The module's package
limit and approval queue have no counterpart here: devices are approved at once.
"""

import datetime
import hashlib
import os
import secrets

from . import models
from .database import database
from .errors import Forbidden, NotFound

TOKEN_BYTES = 48                 # 64 characters, the module's default token length
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
Machine = models.PosMachine


def new_ulid(now):
    """A ULID: 48 bits of milliseconds (of ``now``, naive UTC) and 80 random bits,
    Crockford base32."""
    millis = int(now.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def machine_shape(machine, token=None):
    return {"id": machine.id, "branch_id": machine.branch_id, "alias": machine.alias,
            "public_id": machine.public_id, "token": token, "status": machine.status,
            "device_id": machine.device_id, "platform": machine.platform,
            "approved_at": machine.approved_at, "last_seen_at": machine.last_seen_at}


def _branch(actor, branch_id):
    """The branch asked for (default: the token's), within the caller's restaurant."""
    branch = models.Branch.get_or_none(
        (models.Branch.id == (branch_id or actor.branch_id))
        & (models.Branch.restaurant == actor.restaurant_id))
    if branch is None:
        raise NotFound("Branch not found for this restaurant")
    return branch


def register(actor, body, now):
    """POST /pos/multi-pos/register: the device, with a freshly issued token."""
    with database.atomic():
        branch = _branch(actor, body.branch_id)
        if branch.id != actor.branch_id:
            raise Forbidden("Register a device with the branch your session is for; switch "
                            "branch first.")
        device_id = body.device_id or secrets.token_hex(32)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        machine = Machine.get_or_none((Machine.branch == branch.id)
                                      & (Machine.device_id == device_id))
        if machine is not None:
            machine.token_hash, machine.last_seen_at, machine.updated_at = _hash(token), now, now
            if body.platform:
                machine.platform = body.platform
            machine.save()
            return {"success": True, "message": "Device already registered",
                    "data": machine_shape(machine, token)}
        machine = Machine.create(
            branch=branch.id, device_id=device_id, platform=body.platform,
            alias=body.alias or "%s POS %s" % (branch.name, now.strftime("%Y%m%d_%H%M%S")),
            public_id=new_ulid(now), token_hash=_hash(token), status="active",
            created_by=actor.user_id, approved_by=actor.user_id, approved_at=now,
            last_seen_at=now, created_at=now, updated_at=now)
        return {"success": True, "message": "Device registered",
                "data": machine_shape(machine, token)}


def check(actor, query):
    """GET /pos/multi-pos/check: whether the device must (re)register; no token."""
    branch = _branch(actor, query.branch_id)
    machine = Machine.get_or_none((Machine.branch == branch.id)
                                  & (Machine.device_id == query.device_id))
    if machine is None:
        return {"success": True, "needs_registration": True,
                "message": "No device found for this branch"}
    return {"success": True, "needs_registration": machine.status == "declined",
            "data": machine_shape(machine)}
