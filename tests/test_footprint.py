"""What an edge's process leaves out (issue 14: an edge under 60 MB RSS after a shift;
tests/bench_idle.py measures it). An edge started as ``branchline-edge`` (edge/launch.py)
loads neither the PostgreSQL driver, nor curses, nor ``cryptography`` (it signs with
libsodium and makes its TLS certificate in a process of its own), nor peewee's URL
parser (the cloud's PostgreSQL: protocol/postgres_pool.py), makes no pydantic model of an
answer shape (only the API document needs them), builds no validator of a request body
before a request needs it, loads pycountry and
phonenumbers only for a search of calling codes and tarfile only for a backup or a
restore, has malloc give back what a burst of work freed, and keeps no copy of its
database in memory (a small SQLite page cache)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBE = r"""
import json, sys
import edge.launch
from edge import lan, server
from protocol import ed25519, heap, shapes, tokens, validation
from sync import auth, client, enrollment

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

bodies = list(subclasses(validation.Body))
ring = tokens.KeyRing(7, ed25519.generate())          # tokens work without cryptography
token = ring.issue(user_id=3, restaurant_id=1, branch_id=2, ttl_seconds=60, now=1000)
print(json.dumps({
    "loaded": [m for m in ("psycopg2", "curses", "pycountry", "phonenumbers", "tarfile",
                           "cryptography", "playhouse.db_url") if sys.modules.get(m)],
    "shapes": len(list(subclasses(shapes.Shape))),
    "shape_models": [m.__name__ for m in shapes._MODELS.values()],
    "bodies": len(bodies),
    "built": sorted(m.__qualname__ for m in bodies if m.__pydantic_complete__),
    "token": ring.verify(token, now=1001)["sub"],
    "malloc": heap.return_freed_memory()}))
"""


def test_an_edge_process_leaves_out_what_it_does_not_use():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["loaded"] == []
    assert found["shapes"] > 200 and found["shape_models"] == []
    assert found["bodies"] > 50 and found["built"] == []
    assert found["token"] == 3
    assert found["malloc"] is True


SCAN_PROBE = r"""
import json, os, sys
import edge.launch
from protocol.database import open_sqlite

def rss_mb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) / 1024 for l in fh if l.startswith("VmRSS:"))

db = open_sqlite(os.path.join(sys.argv[1], "edge.db"))
db.connect()
db.execute_sql("CREATE TABLE page (id INTEGER PRIMARY KEY, body TEXT)")
before = rss_mb()
for start in range(0, 4000, 500):      # 16 MB of rows, written then read back
    with db.atomic():
        for n in range(start, start + 500):
            db.execute_sql("INSERT INTO page (body) VALUES (?)", ("%04d" % n * 1000,))
read = db.execute_sql("SELECT sum(length(body)) FROM page").fetchone()[0]
print(json.dumps({"read_mb": read / 1e6, "grew_mb": rss_mb() - before}))
"""


def test_an_edge_keeps_no_copy_of_its_database_in_memory(tmp_path):
    """Months of orders make a database of many MB: the edge's SQLite connection keeps
    a small page cache, not the file's pages it has written or read (the operating
    system's file cache holds them)."""
    done = subprocess.run([sys.executable, "-c", SCAN_PROBE, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["read_mb"] == 16
    assert found["grew_mb"] < 4, found
