"""How an edge process starts (``branchline-edge``, ``python -m edge``).

An edge runs on SQLite only, so its process never loads the PostgreSQL driver:
peewee imports psycopg2 whenever it is installed (the ``postgres`` extra, for the
cloud), which costs an edge about 10 MB of memory it keeps for ever. Marking the
module absent before anything imports peewee keeps it out. So with curses, which
tornado.log loads (0.5 MB with its C library) only to colour a terminal's log lines
through its own formatter, one an edge does not use (protocol/process.py); and
``cryptography``, about 9 MB with its own OpenSSL, which PyJWT loads when it is
installed: an edge signs with libsodium (protocol/ed25519.py) and makes its TLS
certificate in a process of its own (edge/tls.py). An edge box is small and runs for
months: malloc gives back what a shift freed (protocol/heap.py).
"""

import sys

for _absent in ("psycopg2", "curses", "cryptography"):
    sys.modules.setdefault(_absent, None)

from protocol import heap  # noqa: E402 - after the marks above

heap.return_freed_memory()

from edge.server import main  # noqa: E402

__all__ = ["main"]
