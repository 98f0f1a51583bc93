"""The coins and notes a branch counts its cash drawers in (protocol/cash_register.py).

Found by ``uuid`` in paths, as the module does, within the caller's branch only.
A denomination already used in a drawer count is deactivated instead of deleted,
so closed sessions keep what was counted.
"""

import uuid as uuids

from . import models, permissions
from .errors import NotFound

TYPES = ["coin", "note", "bill"]
TYPE_LABELS = {"coin": "Coin", "note": "Note", "bill": "Bill"}
Denomination = models.Denomination


def shape(row, *, full=False):
    data = {"id": row.id, "uuid": row.uuid, "name": row.name, "value": row.value,
            "type": row.type, "type_label": TYPE_LABELS.get(row.type, row.type),
            "is_active": row.is_active}
    if full:
        data.update(description=row.description, created_at=row.created_at,
                    updated_at=row.updated_at)
    return data


def _written(row):
    return {k: v for k, v in shape(row).items() if k != "type_label"}


def _find(actor, uuid):
    row = Denomination.get_or_none((Denomination.uuid == uuid)
                                   & (Denomination.branch == actor.branch_id))
    if row is None:
        raise NotFound("Denomination not found")
    return row


def list_active(actor):
    """GET /denominations: the branch's active coins and notes, smallest first."""
    permissions.require(actor, "cash.view")
    rows = Denomination.select().where((Denomination.branch == actor.branch_id)
                                       & Denomination.is_active).order_by(Denomination.value,
                                                                          Denomination.id)
    return {"success": True, "data": [shape(r) for r in rows]}


def get(actor, uuid):
    permissions.require(actor, "cash.view")
    return {"success": True, "data": shape(_find(actor, uuid), full=True)}


def create(actor, body, now):
    permissions.require(actor, "cash.manage")
    row = Denomination.create(
        uuid=str(uuids.uuid4()), restaurant=actor.restaurant_id, branch=actor.branch_id,
        name=body.name, value=body.value, type=body.type, description=body.description,
        is_active=True if body.is_active is None else body.is_active,
        created_at=now, updated_at=now)
    return {"success": True, "message": "Denomination created successfully",
            "data": _written(row)}


def update(actor, uuid, body, now):
    """PUT /denominations/{uuid}: the fields given (null ones are left alone)."""
    permissions.require(actor, "cash.manage")
    row = _find(actor, uuid)
    for name in ("name", "value", "type", "description", "is_active"):
        value = getattr(body, name)
        if value is not None:
            setattr(row, name, value)
    row.updated_at = now
    row.save()
    return {"success": True, "message": "Denomination updated successfully",
            "data": _written(row)}


def delete(actor, uuid, now):
    permissions.require(actor, "cash.manage")
    row = _find(actor, uuid)
    counted = models.CashRegisterCount.select().where(
        models.CashRegisterCount.denomination == row.id).exists()
    if counted:
        row.is_active = False
        row.updated_at = now
        row.save()
    else:
        row.delete_instance()
    return {"success": True, "message": "Denomination deleted successfully"}
