"""Delivery platforms and delivery executives (riders): create, change, delete
(MODULE-ROUTES.md §2, "Delivery platforms", "Delivery executives").

Scope: one rule for reads and writes, the acting branch's rows (``actor.branch_id``),
the rule the lists (GET /pos/delivery-platforms, GET /pos/delivery-executives) already
use: a row of another branch or restaurant is a 404 for a read, a change and a delete.

Both tables are head office's (sync/ownership.py: CLOUD): written at the cloud and fed
to the branch's server, like the delivery settings; a write at an edge is a 409. A
rider's live status is the branch's (protocol/rider_states.py): PUT .../status sets it
where the branch runs.

A rider is given a login code when created: random, answered once (``login_code`` in
the create answer) and stored only as a hash (``login_code_hash``), so a lost code is
replaced, never read back; its first characters are kept in clear
(``login_code_hint``: protocol/rider_accounts.py finds a rider by it). Statuses are
``staff.EXECUTIVE_STATUSES``, the one list; ``status`` here is the account's.
Deleting a platform or rider some order names deactivates it instead (the order keeps
its history); otherwise the row is deleted.
"""

import secrets

from . import models, passwords, permissions, rider_states
from .database import database
from .rider_accounts import HINT_LENGTH
from .staff import EXECUTIVE_STATUSES

Platform, Executive = models.DeliveryPlatform, models.DeliveryExecutive
# A rider's login code: unambiguous characters (no 0/O, 1/I/L), 10 of them (~49 bits).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


# --- platforms ---------------------------------------------------------------------------------

def _logo_url(logo):
    if logo and logo.startswith(("http://", "https://", "/")):
        return logo
    return None


def platform_shape(platform):
    return {"id": platform.id, "name": platform.name, "logo": platform.logo,
            "logo_url": _logo_url(platform.logo), "commission_type": "percent",
            "commission_value": platform.commission_percent,
            "formatted_commission": "%s%%" % platform.commission_percent.normalize(),
            "is_active": platform.is_active}


def _platform(actor, platform_id):
    return models.in_branch(Platform, actor.branch_id, platform_id, "Delivery platform",
                            message="Delivery platform not found")


def get_platform(actor, platform_id):
    """GET /pos/delivery-platforms/{id}: one of the branch's platforms, active or not."""
    return {"success": True, "data": platform_shape(_platform(actor, platform_id))}


def _apply_platform(platform, body):
    sent = body.model_fields_set
    if "name" in sent and body.name is not None:
        platform.name = body.name
    if "logo" in sent:
        platform.logo = body.logo
    if "commission_value" in sent and body.commission_value is not None:
        platform.commission_percent = body.commission_value
    if "is_active" in sent and body.is_active is not None:
        platform.is_active = body.is_active


def create_platform(actor, body, now, at_cloud):
    """POST /pos/delivery-platforms: a platform of the branch (201)."""
    permissions.require(actor, "delivery.staff")
    models.head_office_only(at_cloud, "Delivery platforms")
    platform = Platform(branch=actor.branch_id, name=body.name, created_at=now, updated_at=now)
    _apply_platform(platform, body)
    platform.save(force_insert=True)
    return {"success": True, "message": "Delivery platform created successfully",
            "data": platform_shape(platform)}


def update_platform(actor, platform_id, body, now, at_cloud):
    """PUT /pos/delivery-platforms/{id}: change the fields sent (null leaves one as is,
    but clears the logo)."""
    permissions.require(actor, "delivery.staff")
    with database.atomic():
        platform = _platform(actor, platform_id)
        models.head_office_only(at_cloud, "Delivery platforms")
        _apply_platform(platform, body)
        platform.updated_at = now
        platform.save()
    return {"success": True, "message": "Delivery platform updated successfully",
            "data": platform_shape(platform)}


def delete_platform(actor, platform_id, now, at_cloud):
    """DELETE /pos/delivery-platforms/{id}: deleted, or deactivated when an order names it."""
    permissions.require(actor, "delivery.staff")
    with database.atomic():
        platform = _platform(actor, platform_id)
        models.head_office_only(at_cloud, "Delivery platforms")
        if models.Order.select().where(models.Order.delivery_app == platform.id).exists():
            platform.is_active = False
            platform.updated_at = now
            platform.save()
            return {"success": True,
                    "message": "Delivery platform deactivated (has associated orders)"}
        platform.delete_instance()
    return {"success": True, "message": "Delivery platform deleted successfully"}


# --- executives --------------------------------------------------------------------------------

def new_login_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def executive_shape(executive):
    return {"id": executive.id, "branch_id": executive.branch_id, "name": executive.name,
            "phone": executive.phone, "phone_code": executive.phone_code,
            "status": rider_states.status_of(executive, rider_states.state_of(executive.id))}


def _executive(actor, executive_id):
    return models.in_branch(Executive, actor.branch_id, executive_id, "Delivery executive",
                            message="Delivery executive not found")


def _apply_executive(executive, body):
    sent = body.model_fields_set
    for field in ("name", "status"):
        if field in sent and getattr(body, field) is not None:
            setattr(executive, field, getattr(body, field))
    for field in ("phone", "phone_code"):       # null clears
        if field in sent:
            setattr(executive, field, getattr(body, field) or "")


def create_executive(actor, body, now, at_cloud):
    """POST /pos/delivery-executives: a rider of the branch (201), with a login code
    answered this once."""
    permissions.require(actor, "delivery.staff")
    models.head_office_only(at_cloud, "Delivery executives")
    code = new_login_code()
    executive = Executive(branch=actor.branch_id, name=body.name, status="available",
                          login_code_hash=passwords.hash_password(code),
                          login_code_hint=code[:HINT_LENGTH],
                          created_at=now, updated_at=now)
    _apply_executive(executive, body)
    executive.save(force_insert=True)
    return {"success": True, "message": "Delivery executive created successfully",
            "data": dict(executive_shape(executive), login_code=code)}


def update_executive(actor, executive_id, body, now, at_cloud):
    """PUT /pos/delivery-executives/{id}: change the fields sent (null clears a phone)."""
    permissions.require(actor, "delivery.staff")
    with database.atomic():
        executive = _executive(actor, executive_id)
        models.head_office_only(at_cloud, "Delivery executives")
        _apply_executive(executive, body)
        executive.updated_at = now
        executive.save()
    return {"success": True, "message": "Delivery executive updated successfully",
            "data": executive_shape(executive)}


def set_status(actor, executive_id, status, now):
    """PUT /pos/delivery-executives/{id}/status: {id, name, status}. The rider's live
    status at the branch (protocol/rider_states.py), so it is set where the branch runs,
    even offline; available also ends the delivery the rider was carrying."""
    permissions.require(actor, "delivery.staff")
    with database.atomic():
        executive = _executive(actor, executive_id)
        fields = {"status": status}
        if status != "on_delivery":
            fields["order"] = None
        state = rider_states.set_state(executive, now, **fields)
    return {"success": True, "message": "Delivery executive status updated successfully",
            "data": {"id": executive.id, "name": executive.name,
                     "status": rider_states.status_of(executive, state)}}


def delete_executive(actor, executive_id, now, at_cloud):
    """DELETE /pos/delivery-executives/{id}: deleted, or made inactive when an order
    names the rider."""
    permissions.require(actor, "delivery.staff")
    with database.atomic():
        executive = _executive(actor, executive_id)
        models.head_office_only(at_cloud, "Delivery executives")
        if models.Order.select().where(
                models.Order.delivery_executive == executive.id).exists():
            executive.status = "inactive"
            executive.updated_at = now
            executive.save()
            return {"success": True,
                    "message": "Delivery executive set to inactive (has associated orders)"}
        executive.delete_instance()
    return {"success": True, "message": "Delivery executive deleted successfully"}

