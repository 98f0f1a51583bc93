"""Sync health, as the edge's status page and the cloud's head office see it."""

import peewee

from protocol import models, push

from . import feed, state
from .models import ChangeLog, DeadLetter, SyncNode

ONLINE_SECONDS = 60


def _iso(value):
    return value.isoformat() + "Z" if value else None


def _age(value, now):
    return round((now - value).total_seconds(), 1) if value else None


def _unsent(acked):
    return ChangeLog.select().where((ChangeLog.origin == 0) & (ChangeLog.seq > acked))


def edge_status(now, cloud_url):
    acked = state.get_int(state.ACKED)
    unsent = _unsent(acked)
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
    rows = [dict(_edge_row(node, now, head, push_errors),
                 branch=branches[node.branch_id].name)
            for node in SyncNode.select().where(SyncNode.branch_id.in_(list(branches)))
            .order_by(SyncNode.branch_id, SyncNode.node_id)]
    return {"role": "cloud", "head": head, "edges": rows}


def _edge_row(node, now, head, push_errors):
    """One edge's health as the cloud sees it."""
    last_seen = node.last_seen
    return {
        "branch_id": node.branch_id, "node_id": node.node_id, "name": node.name,
        "retired": node.retired,
        "online": bool(last_seen and (now - last_seen).total_seconds() < ONLINE_SECONDS),
        "high_water_mark": node.high_water_mark,
        "feed_cursor": node.feed_cursor, "feed_lag": feed.lag(node.feed_cursor, head),
        "last_push_at": _iso(node.last_push_at), "last_pull_at": _iso(node.last_pull_at),
        "last_seen_at": _iso(last_seen), "seconds_since_seen": _age(last_seen, now),
        "last_push_error": push_errors.get(node.node_id),
        "dead_letters": DeadLetter.select().where(DeadLetter.node_id == node.node_id).count(),
    }


def branch_states(now, branch_ids, push_errors=None, outboxes=None, listening=None):
    """{branch id: sync state} of those of ``branch_ids`` an edge runs, as head office
    reads them at the cloud (protocol/head_office.py; a branch left out is served
    by the cloud). ``outboxes``: {edge node id: (its outbox depth, the sequence
    number of its newest change, when it said so)}, which each edge reports with
    its pulls (``outbox_report``, handlers.PullHandler): the depth it reported, or
    0 once the cloud has applied up to that newest change (None until an edge has
    reported: one older than this code never does). ``listening(node id)``: whether
    the edge has a pull open now, so that a command reaches it at once
    (sync/presence.py)."""
    head, outboxes = feed.head(), outboxes or {}
    states = {}
    for node in SyncNode.select().where(SyncNode.branch_id.in_(list(branch_ids)) &
                                        (SyncNode.retired == False)):  # noqa: E712
        row = _edge_row(node, now, head, push_errors or {})
        depth, newest, reported_at = outboxes.get(node.node_id, (None, None, None))
        if depth is not None and node.high_water_mark >= newest:
            depth = 0
        states[node.branch_id] = {
            "served_by": "edge", "node_id": node.node_id, "online": row["online"],
            "listening": listening(node.node_id) if listening else None,
            "last_seen_at": row["last_seen_at"],
            "seconds_since_seen": row["seconds_since_seen"], "outbox_depth": depth,
            "outbox_reported_at": _iso(reported_at), "feed_lag": row["feed_lag"],
            "last_push_at": row["last_push_at"], "last_pull_at": row["last_pull_at"],
            "dead_letters": row["dead_letters"],
            "message": "Run by its edge %s, %s." % (
                node.name or "#%d" % node.node_id,
                "online" if row["online"] else "offline since %s" % (
                    row["last_seen_at"] or "enrollment")),
        }
    return states


def outbox_report():
    """(how many changes this edge has not yet had acknowledged, the sequence number
    of the newest of them, or of the last acknowledged when there are none): what
    it tells the cloud with each pull, for head office (``branch_states``)."""
    acked = state.get_int(state.ACKED)
    unsent = _unsent(acked)
    return unsent.count(), max(acked, unsent.select(peewee.fn.MAX(ChangeLog.seq)).scalar()
                               or 0)


def edge_branch_state(now, cloud_url, node_id):
    """This edge's sync state as head office reads it here (its own view)."""
    edge = edge_status(now, cloud_url)
    last_seen = max(filter(None, [state.get_time(state.LAST_PUSH),
                                  state.get_time(state.LAST_PULL)]), default=None)
    if not edge["enrolled"]:
        message = "This edge is not enrolled with a cloud: its changes stay here."
    elif edge["online"]:
        message = "This edge, online with the cloud."
    else:
        message = "This edge, offline: last heard from the cloud %s." % (
            _iso(last_seen) or "never")
    return {
        "served_by": "edge", "node_id": node_id, "online": edge["online"], "listening": None,
        "last_seen_at": _iso(last_seen), "seconds_since_seen": _age(last_seen, now),
        "outbox_depth": edge["outbox_depth"], "outbox_reported_at": _iso(now),
        "feed_lag": None, "last_push_at": edge["last_push_at"],
        "last_pull_at": edge["last_pull_at"], "dead_letters": edge["dead_letters"],
        "message": message,
    }
