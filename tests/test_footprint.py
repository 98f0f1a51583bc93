"""What an edge's process leaves out (issue 14: an edge under 60 MB RSS after a shift;
tests/bench_idle.py measures it). An edge started as ``branchline-edge`` (edge/launch.py)
loads neither the PostgreSQL driver, nor curses, nor ``cryptography`` (it signs with
libsodium and makes its TLS certificate in a process of its own), nor peewee's URL
parser (the cloud's PostgreSQL: protocol/postgres_pool.py), builds no pydantic validator of an
answer shape or a request body before a request needs it, loads pycountry only for a
search of calling codes, and has malloc give back what a burst of work freed."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBE = r"""
import json, sys
import edge.launch
from edge import lan, server
from protocol import heap, shapes, tokens, validation
from sync import auth, client, enrollment

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

models = list(subclasses(shapes.Shape)) + list(subclasses(validation.Body))
print(json.dumps({
    "loaded": [m for m in ("psycopg2", "curses", "pycountry", "cryptography", "playhouse.db_url") if sys.modules.get(m)],
    "models": len(models),
    "built": sorted(m.__qualname__ for m in models if m.__pydantic_complete__),
    "malloc": heap.return_freed_memory()}))
"""


def test_an_edge_process_leaves_out_what_it_does_not_use():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["loaded"] == []
    assert found["models"] > 100 and found["built"] == []
    assert found["malloc"] is True
