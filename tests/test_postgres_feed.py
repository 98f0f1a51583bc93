"""The cloud's feed on PostgreSQL never skips a change committed late under a
lower sequence number, nor gives one twice (sync/postgres.py: the watermark).

Several writer connections interleave long and short transactions (some taking
their transaction id long before they log anything, some rolled back) on a
replicated table, through the capture triggers, while several readers follow
the feed as edges do (sync/feed.py ``changes_for``, a few changes per batch, the
cursor moved to each batch's ``upto``), each in its own Store and connection.
"""

import itertools
import random
import threading
import time

import psycopg2
import pytest

from protocol.clock import Clock
from protocol.postgres_pool import open_postgres
from protocol.store import Store
from sync import feed
from sync.models import ChangeLog, SyncNode
from sync.startup import open_store

EDGE = 50                 # the edge the readers read for (enrolled below)
FIRST_ID = 10 ** 12


@pytest.fixture
def cloud_url(postgres_cloud_database, demo):
    store = open_store(None, 1, db=open_postgres(postgres_cloud_database))  # triggers in place
    try:
        store.call(lambda: SyncNode.create(node_id=EDGE, branch_id=demo["branches"]["Downtown"],
                                           public_key="-"))
    finally:
        store.close()
    return postgres_cloud_database


class Writers:
    """Transactions on their own connections; remembers what committed, in order."""

    def __init__(self, url):
        self.url = url
        self.ids = itertools.count(FIRST_ID)
        self.lock = threading.Lock()
        self.committed = []            # [ids of one transaction], in commit order
        self.rolled_back = set()

    def insert(self, cursor):
        row_id = next(self.ids)
        cursor.execute("INSERT INTO languages (id, created_at, updated_at, code, name, "
                       "is_active, is_rtl) VALUES (%s, now(), now(), %s, 'L', true, false)",
                       (row_id, "l%d" % row_id))
        return row_id

    def run(self, seed, kind, count):
        rng = random.Random(seed)
        conn = psycopg2.connect(self.url)
        try:
            for _ in range(count):
                written = []
                with conn.cursor() as cursor:
                    if kind == "early":
                        # The transaction takes its id now, and logs only later.
                        cursor.execute("INSERT INTO sync_state (key, value) VALUES (%s, '1')",
                                       ("w%d-%d" % (seed, rng.getrandbits(48)),))
                        time.sleep(rng.uniform(0.05, 0.25))
                    written.append(self.insert(cursor))
                    if kind in ("long", "early", "undone"):
                        time.sleep(rng.uniform(0.05, 0.3))
                        written.append(self.insert(cursor))
                if kind == "undone":
                    conn.rollback()
                    self.rolled_back.update(written)
                    continue
                with self.lock:           # commit order: recorded under the same lock
                    conn.commit()
                    self.committed.append(written)
                time.sleep(rng.uniform(0, 0.02))
        finally:
            conn.close()


class Reader:
    """An edge following the feed, a few changes per batch."""

    def __init__(self, url, limit):
        self.store = Store(open_postgres(url), node_id=1)
        self.limit = limit
        self.cursor = 0
        self.seen = []                 # (seq, row id) of every change given
        self.error = None

    def pull(self):
        batch = self.store.call(feed.changes_for, EDGE, self.cursor, Clock().now(),
                                limit=self.limit)
        assert batch["upto"] >= self.cursor
        if not batch["changes"]:
            time.sleep(0.005)
        self.seen.extend((c["seq"], c["id"]) for c in batch["changes"]
                         if c["table"] == "languages")
        self.cursor = batch["upto"]

    def follow(self, done):
        try:
            while not done.is_set():
                self.pull()
        except BaseException as exc:   # noqa: BLE001 - reported by the test
            self.error = exc


def test_no_reader_misses_or_repeats_a_change_committed_late(cloud_url):
    writers = Writers(cloud_url)
    plan = [(1, "long", 12), (2, "long", 12), (3, "early", 12), (4, "short", 60),
            (5, "short", 60), (6, "undone", 6)]
    threads = [threading.Thread(target=writers.run, args=step) for step in plan]
    readers = [Reader(cloud_url, limit) for limit in (1, 3, 500)]
    done = threading.Event()
    following = [threading.Thread(target=r.follow, args=(done,)) for r in readers]
    try:
        for thread in following + threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Every writer has ended: a last pull reaches everything (until the head stops).
        done.set()
        for thread in following:
            thread.join()
        for reader in readers:
            assert reader.error is None, reader.error
            head = reader.store.call(feed.head)
            while reader.cursor < head:
                reader.pull()
        logged = dict(readers[0].store.call(lambda: list(
            ChangeLog.select(ChangeLog.row_id, ChangeLog.seq)
            .where(ChangeLog.table_name == "languages").tuples())))
    finally:
        done.set()
        for reader in readers:
            reader.store.close()

    committed = [row_id for written in writers.committed for row_id in written]
    assert len(committed) == 2 * 12 * 2 + 12 * 2 + 2 * 60
    # The hazard happened: a transaction committed after another, under a lower
    # sequence number than one the other logged.
    assert any(max(logged[i] for i in before) > min(logged[i] for i in after)
               for n, before in enumerate(writers.committed)
               for after in writers.committed[n + 1:]), "no late commit to test with"
    for reader in readers:
        ids = [row_id for _, row_id in reader.seen]
        assert len(ids) == len(set(ids)), "a change given twice"
        assert sorted(ids) == sorted(committed), "changes missed or invented"
        seqs = [seq for seq, _ in reader.seen]
        assert seqs == sorted(seqs)
    assert not writers.rolled_back & set(committed)
