"""Where a branch's edge is on the shop's LAN, for apps that cannot use mDNS.

Each edge records where it announces itself (edge/lan.py) and reports it to the
cloud through sync (sync/client.py, sync/handlers.py); both keep the latest in
``edge_locations``. ``GET /platform/edge`` (handlers/platform.py) answers it to an
app of that branch: the URLs to try and the certificate fingerprints to pin.
"""

from . import models
from .errors import NotFound


def restaurant_of(branch_id):
    """{"id", "name"} of the restaurant the branch belongs to."""
    branch = models.Branch.get_by_id(branch_id)
    return {"id": branch.restaurant_id, "name": branch.restaurant.name}


def record(node_id, branch_id, report, now):
    """Store ``report`` (edge/lan.py ``Lan.report``) as where node_id now is."""
    fields = {"branch_id": branch_id, "name": report.get("name") or "",
              "host": report.get("host") or "", "addresses": list(report["addresses"]),
              "port": report["port"], "tls": bool(report.get("tls")),
              "fingerprint": report.get("fingerprint"), "spki": report.get("spki"),
              "api_path": report.get("api") or "", "ws_path": report.get("ws") or "",
              "version": report.get("version") or "",
              "reported_at": now}
    (models.EdgeLocation.insert(node_id=node_id, **fields)
     .on_conflict(conflict_target=[models.EdgeLocation.node_id], update=fields).execute())


def _url(scheme, address, port, path):
    host = "[%s]" % address if ":" in address else address
    return "%s://%s:%d%s" % (scheme, host, port, path)


def where_is(branch_id):
    """The branch's edge as it last reported itself: its addresses, the API and
    WebSocket URLs on each, TLS and the fingerprints to pin; 404 when none has."""
    branch = models.Branch.get_or_none(models.Branch.id == branch_id)
    query = models.EdgeLocation.select().where(models.EdgeLocation.branch_id == branch_id)
    if branch is not None and branch.edge_node_id:
        query = query.where(models.EdgeLocation.node_id == branch.edge_node_id)
    found = query.order_by(models.EdgeLocation.reported_at.desc()).first()
    if found is None:
        raise NotFound("No edge of this branch has said where it is on the LAN yet.")
    scheme, ws = ("https", "wss") if found.tls else ("http", "ws")
    return {
        "branch_id": found.branch_id, "node_id": found.node_id, "name": found.name,
        "host": found.host, "addresses": found.addresses, "port": found.port,
        "tls": found.tls, "tls_fingerprint": found.fingerprint, "tls_spki": found.spki,
        "version": found.version, "reported_at": found.reported_at.isoformat() + "Z",
        "api_urls": [_url(scheme, a, found.port, found.api_path) for a in found.addresses],
        "ws_urls": [_url(ws, a, found.port, found.ws_path) for a in found.addresses]
        if found.ws_path else [],
    }
