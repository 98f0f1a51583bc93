"""The shapes of sync's 2xx answers, for the OpenAPI document (as protocol/shapes.py
for the API): what an edge and head office read from the sync endpoints."""

from typing import Any, Optional

from protocol.shapes import Shape


class Enrolled(Shape):
    node_id: int
    branch_id: int
    branch_name: str
    restaurant_id: int
    cloud_node_id: int
    cloud_public_key: str


class Applied(Shape):
    high_water_mark: int
    rejected: list[Any]


class EdgeLocated(Shape):
    recorded: bool


class Changes(Shape):
    after: int
    upto: int
    changes: list[dict[str, Any]]
    head: int


class Snapshot(Shape):
    """Without ``table``: cursor and tables; with it: table and rows."""
    cursor: Optional[int] = None
    tables: Optional[list[str]] = None
    table: Optional[str] = None
    rows: Optional[list[dict[str, Any]]] = None


class EdgeHealth(Shape):
    branch_id: int
    node_id: int
    online: bool
    high_water_mark: int
    feed_cursor: int
    dead_letters: int


class CloudStatus(Shape):
    role: str
    head: int
    edges: list[EdgeHealth]


class EdgeStatus(Shape):
    role: str
    enrolled: bool
    online: bool
    outbox_depth: int
    recent_pushes: list[dict]
    oldest_unsent_at: Optional[str]
    acked_seq: int
    feed_cursor: int
    last_push_at: Optional[str]
    last_pull_at: Optional[str]
    dead_letters: int
