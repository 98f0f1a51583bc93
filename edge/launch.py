"""How an edge process starts (``branchline-edge``, ``python -m edge``).

An edge runs on SQLite only, so its process never loads the PostgreSQL driver:
peewee imports psycopg2 whenever it is installed (the ``postgres`` extra, for the
cloud), which costs an edge about 10 MB of memory it keeps for ever. Marking the
module absent before anything imports peewee keeps it out. An edge box is small
and runs for months: malloc gives back what a shift freed (protocol/heap.py).
"""

import sys

sys.modules.setdefault("psycopg2", None)

from protocol import heap  # noqa: E402 - after the mark above

heap.return_freed_memory()

from edge.server import main  # noqa: E402

__all__ = ["main"]
