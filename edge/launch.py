"""How an edge process starts (``branchline-edge``, ``python -m edge``).

An edge runs on SQLite only, so its process never loads the PostgreSQL driver:
peewee imports psycopg2 whenever it is installed (the ``postgres`` extra, for the
cloud), which costs an edge about 10 MB of memory it keeps for ever. Marking the
module absent before anything imports peewee keeps it out.
"""

import sys

sys.modules.setdefault("psycopg2", None)

from edge.server import main  # noqa: E402 - after the mark above

__all__ = ["main"]
