"""Enrolling an edge: a one-time code from head office, a key pair, a snapshot.

At the cloud, ``create_code`` makes a code for a branch (shown once, stored
hashed, expiring). The installer runs ``branchline-edge enroll --cloud-url URL
--code CODE`` on the box: it makes the edge's Ed25519 key, registers it with
the code (``enroll`` here, at the cloud), which gives the box its node id,
retires the key of any box the branch had before, and answers the cloud's
public key (so tokens the cloud issues work on the box and the other way
round). The box then downloads everything its branch may see, table by table,
and is ready to serve; ``enrollment.json`` in its data directory remembers who
it is.
"""

import datetime
import hashlib
import json
import os
import secrets

from protocol import ed25519, ids, locations, models
from protocol.database import lock_key
from protocol.errors import APIError, ValidationFailed

from .models import EnrollmentCode, SyncNode

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ENROLLMENT_FILE = "enrollment.json"


def _hash(code):
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


def create_code(branch_id, now, ttl_minutes=60):
    """A new one-time code for branch_id (returned once, stored hashed)."""
    if models.Branch.get_or_none(models.Branch.id == branch_id) is None:
        raise ValueError("no branch %s" % branch_id)
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    EnrollmentCode.create(code_hash=_hash(raw), branch_id=branch_id,
                          expires_at=now + datetime.timedelta(minutes=ttl_minutes),
                          created_at=now)
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def enroll(code, public_key_pem, name, now):
    """Register an edge for the code's branch; answers its identity."""
    lock_key("enrollment")      # node ids are taken in turn by the cloud's processes
    found = EnrollmentCode.get_or_none(EnrollmentCode.code_hash == _hash(code))
    if found is None:
        raise ValidationFailed.field("code", "This enrollment code is not valid.")
    if found.used_at is not None:
        raise ValidationFailed.field("code", "This enrollment code has already been used.")
    if found.expires_at <= now:
        raise ValidationFailed.field("code", "This enrollment code has expired; ask head "
                                             "office for a new one.")
    try:
        ed25519.load_public_pem(public_key_pem)
    except ValueError:
        raise ValidationFailed.field(
            "public_key", "The public key must be a PEM Ed25519 key.") from None
    taken = SyncNode.select(SyncNode.node_id).order_by(SyncNode.node_id.desc()).limit(1).scalar()
    node_id = max(taken or ids.CLOUD_NODE_ID, ids.CLOUD_NODE_ID) + 1
    if node_id > ids.MAX_NODE_ID:
        raise APIError("No node ids are left.", status=507)
    retired = [n.node_id for n in SyncNode.select(SyncNode.node_id).where(
        (SyncNode.branch_id == found.branch_id) & (SyncNode.retired == False))]  # noqa: E712
    SyncNode.update(retired=True).where(SyncNode.branch_id == found.branch_id).execute()
    SyncNode.create(node_id=node_id, branch_id=found.branch_id, name=name or "",
                    public_key=public_key_pem, enrolled_at=now)
    found.used_at, found.used_by_node = now, node_id
    found.save()
    branch = models.Branch.get_by_id(found.branch_id)
    branch.edge_node_id = node_id
    branch.save()
    return {"node_id": node_id, "branch_id": branch.id, "branch_name": branch.name,
            "restaurant_id": branch.restaurant_id, "retired": retired}


def public_key_of(node_id):
    """The enrolled key of an active edge (None if unknown or retired)."""
    node = SyncNode.get_or_none((SyncNode.node_id == node_id) & (SyncNode.retired == False))  # noqa: E712
    return node.public_key if node else None


def active_edges():
    """[{node_id, public_key, branch_id, restaurant_id}] of every edge not retired."""
    query = (SyncNode.select(SyncNode.node_id, SyncNode.public_key, SyncNode.branch_id,
                             models.Branch.restaurant.alias("restaurant_id"))
             .join(models.Branch, on=(models.Branch.id == SyncNode.branch_id))
             .where(SyncNode.retired == False))  # noqa: E712
    return list(query.dicts())


def record_location(node_id, report, now):
    """Keep where the edge node_id says it is on its branch's LAN (protocol/locations.py)."""
    locations.record(node_id, SyncNode.get_by_id(node_id).branch_id, report, now)


# --- The edge's record of its enrollment ------------------------------------------

def read(data_dir):
    """What ``enroll`` wrote in data_dir, or None for a box not enrolled."""
    path = os.path.join(data_dir, ENROLLMENT_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return json.load(fh)


def write(data_dir, record):
    path = os.path.join(data_dir, ENROLLMENT_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(record, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def apply_to_settings(settings):
    """An enrolled box serves as the node and branch it enrolled as."""
    record = read(os.path.abspath(settings.data_dir))
    if record:
        settings.values["node_id"] = record["node_id"]
        settings.values["branch_id"] = record["branch_id"]
        if not settings.values.get("cloud_url"):
            settings.values["cloud_url"] = record["cloud_url"]
    return record
