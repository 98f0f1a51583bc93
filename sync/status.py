"""Sync health, as the edge's status page and the cloud's head office see it."""

from protocol import models, push

from . import feed, state
from .models import ChangeLog, DeadLetter, SyncNode

ONLINE_SECONDS = 60


def _iso(value):
    return value.isoformat() + "Z" if value else None


def _age(value, now):
    return round((now - value).total_seconds(), 1) if value else None


def edge_status(now, cloud_url):
    acked = state.get_int(state.ACKED)
    unsent = ChangeLog.select().where((ChangeLog.origin == 0) & (ChangeLog.seq > acked))
    oldest = unsent.order_by(ChangeLog.seq).first()
    last_push, last_pull = state.get_time(state.LAST_PUSH), state.get_time(state.LAST_PULL)
    dead = DeadLetter.select().order_by(DeadLetter.id.desc())
    return {
        "role": "edge",
        "cloud_url": cloud_url,
        "enrolled": bool(cloud_url),
        "online": bool(last_pull and (now - last_pull).total_seconds() < ONLINE_SECONDS),
        "outbox_depth": unsent.count(),
        "oldest_unsent_at": _iso(oldest.created_at) if oldest else None,
        "oldest_unsent_age_seconds": _age(oldest.created_at, now) if oldest else None,
        "acked_seq": acked,
        "feed_cursor": state.get_int(state.CURSOR),
        "last_push_at": _iso(last_push),
        "last_pull_at": _iso(last_pull),
        "last_push_error": state.get_error(state.PUSH_ERROR),
        "last_pull_error": state.get_error(state.PULL_ERROR),
        "dead_letters": dead.count(),
        "recent_dead_letters": [{"seq": d.seq, "table": d.table_name, "id": d.row_id,
                                 "reason": d.reason, "at": _iso(d.created_at)}
                                for d in dead.limit(20)],
        # The branch's latest push deliveries, as the cloud (which pushes) logged them and
        # fed them here: sent, retry, failed, expired, token_removed, skipped.
        "recent_pushes": [dict(line, at=_iso(line["at"])) for line in push.recent_log()],
    }


def cloud_status(now, restaurant_id, push_errors=None):
    """``push_errors``: {edge node id: {"at", "error"}} of the last push of each
    edge that failed at the cloud (a fault of the cloud's, not a refusal), until
    one succeeds (handlers.CloudSync)."""
    push_errors = push_errors or {}
    head = feed.head()
    branches = {b.id: b for b in models.Branch.select().where(
        models.Branch.restaurant == restaurant_id)}
    rows = []
    for node in SyncNode.select().where(SyncNode.branch_id.in_(list(branches)))\
            .order_by(SyncNode.branch_id, SyncNode.node_id):
        last_seen = node.last_seen
        rows.append({
            "branch_id": node.branch_id, "branch": branches[node.branch_id].name,
            "node_id": node.node_id, "name": node.name, "retired": node.retired,
            "online": bool(last_seen and (now - last_seen).total_seconds() < ONLINE_SECONDS),
            "high_water_mark": node.high_water_mark,
            "feed_cursor": node.feed_cursor, "feed_lag": feed.lag(node.feed_cursor, head),
            "last_push_at": _iso(node.last_push_at), "last_pull_at": _iso(node.last_pull_at),
            "seconds_since_seen": _age(last_seen, now),
            "last_push_error": push_errors.get(node.node_id),
            "dead_letters": DeadLetter.select().where(
                DeadLetter.node_id == node.node_id).count(),
        })
    return {"role": "cloud", "head": head, "edges": rows}
