"""The edge's push and pull loops against a fake cloud and a fake clock.

A real edge store (SQLite file, capture triggers) runs the loops of
sync/client.py; the network is a ``FakeCloud`` transport that answers push and
pull as the real cloud does (high-water mark, gaps, refusals, failures, an
outage), and time is a FakeClock the test moves by hand, so backoffs take no
real time and no request can slip in unseen. The same loops against the real
cloud through a faulty network are tests/test_sync_chaos.py.
"""

import asyncio
import logging
import socket
import time
from urllib.parse import parse_qs, urlparse

import pytest

from protocol import ids, models, wire
from protocol.clock import FakeClock
from sync import client, outbox, rows, status
from sync.backoff import Backoff
from sync.client import EdgeSync
from sync.models import DeadLetter

D = "Downtown"
JITTER = 0.5            # the backoff's random draw: every delay is x (0.8 + 0.6 * 0.5) = x 1.1


async def soon(check, timeout=3.0):
    """Wait (real time) until check() is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "not within %.1f s" % timeout
        await asyncio.sleep(0.002)
    return value


async def quiet(seconds=0.05):
    """Let the loops run a while (real time) without moving the fake clock."""
    await asyncio.sleep(seconds)


class FakeCloud:
    """A transport answering /sync/push and /sync/pull as the cloud does."""

    def __init__(self):
        self.mark = 0                 # the edge's high-water mark here
        self.applied = []             # (seq, table, id) of every change applied here
        self.received = []            # seq of every change in a push it accepted
        self.pushes = []              # (after, upto, status) of every push that arrived
        self.pulls = 0
        self.down = False             # no answer at all: the network is out
        self.answers = []             # (status, message) to answer the next pushes with
        self.feed = []                # the cloud's changes for the edge
        self._news = None             # resolves a waiting long poll
        self.arrived = 0              # pushes that have arrived, answered or not
        self.holding = False          # pushes arriving wait, each on a future in held
        self.held = []

    # --- what the test does to the cloud -------------------------------------------

    def publish(self, change):
        self.feed.append(change)
        self._wake()

    def restore_from_backup(self):
        """The cloud forgets everything the edge sent (a restore from an old backup)."""
        self.mark, self.applied = 0, []

    def cut(self):
        """Connections drop: a long poll in flight fails."""
        if self._news is not None and not self._news.done():
            self._news.set_exception(ConnectionError("connection reset"))

    @property
    def polling(self):
        return self._news is not None and not self._news.done()

    def _wake(self):
        if self.polling:
            self._news.set_result(True)

    # --- the transport -------------------------------------------------------------

    async def request(self, method, url, body, headers, timeout):
        assert headers.get("X-Branchline-Signature"), "every request is signed"
        if self.down:
            raise ConnectionError("connection refused")
        parsed = urlparse(url)
        if parsed.path == "/sync/push":
            self.arrived += 1
            if self.holding:                  # held: more pushes may arrive meanwhile
                self.held.append(asyncio.get_running_loop().create_future())
                await self.held[-1]
            code, answer = self._push(wire.loads(body))
        else:
            code, answer = await self._pull(parse_qs(parsed.query))
        return code, wire.dumps_bytes(answer)

    def _push(self, batch):
        after, upto = batch["after"], batch["upto"]
        code, answer = 200, None
        if self.answers:
            code, message = self.answers.pop(0)
            answer = {"success": False, "message": message}
        elif after > self.mark:
            code, answer = 409, {"success": False, "message": "gap",
                                 "high_water_mark": self.mark}
        else:
            self.received += [c["seq"] for c in batch["changes"]]
            self.applied += [(c["seq"], c["table"], c["id"]) for c in batch["changes"]
                             if c["seq"] > self.mark]
            self.mark = max(self.mark, upto)
            answer = {"high_water_mark": self.mark, "rejected": []}
        self.pushes.append((after, upto, code))
        return code, answer

    async def _pull(self, query):
        self.pulls += 1
        after, wait = int(query["after"][0]), float(query["wait"][0])
        if wait and not [c for c in self.feed if c["seq"] > after]:
            self._news = asyncio.get_running_loop().create_future()
            await self._news                      # a long poll: until news (or a cut)
        changes = [c for c in self.feed if c["seq"] > after]
        head = max([after] + [c["seq"] for c in self.feed])
        return 200, {"after": after, "upto": head, "changes": changes, "head": head}

    def close(self):
        pass


@pytest.fixture
async def loops(start_node):
    """(edge, its EdgeSync, the fake cloud, the fake clock), the loops running."""
    clock = FakeClock()
    edge = await start_node("edge", D, clock=clock)
    cloud = FakeCloud()
    sync = EdgeSync(edge.node, "http://cloud.test", clock=clock, transport=cloud, tick=0.001,
                    backoff=lambda: Backoff(rng=lambda: JITTER))
    sync.start()
    yield edge, sync, cloud, clock
    await sync.stop()


def branch_tables(edge):
    return edge.node.store.call(lambda: [t.id for t in models.Table.select().where(
        models.Table.branch == edge.node.branch_id).order_by(models.Table.id)])


def seat(edge, table_id, capacity):
    """A local write at the edge: one change to push."""
    edge.node.store.call(lambda: models.Table.update(seating_capacity=capacity).where(
        models.Table.id == table_id).execute())


def edge_status(edge):
    return edge.node.store.call(status.edge_status, edge.node.clock.now(), "http://cloud.test")


def dead_letters(edge):
    return edge.node.store.call(lambda: [(d.node_id, d.table_name, d.row_id, d.reason)
                                         for d in DeadLetter.select().order_by(DeadLetter.id)])


async def backing_off(edge, failure="last_push_error"):
    """Wait until the edge has recorded that its last push (or pull), just now,
    failed, and its loop has settled into waiting out the backoff."""
    now = edge.node.clock.now().isoformat() + "Z"
    await soon(lambda: (edge_status(edge)[failure] or {}).get("at") == now)
    await quiet()


async def advance_until(clock, check, step=0.1, limit=10.0):
    """Move the fake clock step by step, letting the loops run in between, until
    check(); answers how many (fake) seconds that took."""
    start = clock.monotonic()
    while not check():
        assert clock.monotonic() - start < limit, "not within %.1f s" % limit
        clock.advance(step)
        await quiet(0.05)
    return clock.monotonic() - start


def test_backoff_grows_from_its_minimum_doubling_with_jitter_up_to_its_cap():
    draws = iter([0.0, 1.0] + [0.5] * 8)
    backoff = Backoff(minimum=0.5, maximum=30.0, rng=lambda: next(draws))
    delays = [round(backoff.failure(), 3) for _ in range(9)]
    assert delays == [0.4, 1.4, 2.2, 4.4, 8.8, 17.6, 33.0, 33.0, 33.0]
    assert backoff.failing
    backoff.success()
    assert not backoff.failing and backoff.failure() == pytest.approx(0.55)


async def test_a_failing_cloud_is_retried_after_a_growing_backoff_and_never_in_between(loops):
    edge, sync, cloud, clock = loops
    await soon(lambda: cloud.polling)
    cloud.answers = [(503, "busy")] * 3
    table = branch_tables(edge)[0]
    seat(edge, table, 6)
    await soon(lambda: len(cloud.pushes) == 1)
    await backing_off(edge)
    for n, delay in enumerate((0.55, 1.1, 2.2), start=1):      # 0.5 s, x2, x1.1 jitter
        clock.advance(delay - 0.01)
        await quiet()
        assert len(cloud.pushes) == n                            # not before its time
        clock.advance(0.02)
        await soon(lambda: len(cloud.pushes) == n + 1)
        if n < 3:
            await backing_off(edge)
    assert [p[2] for p in cloud.pushes] == [503, 503, 503, 200]
    assert [a[1:] for a in cloud.applied] == [("tables", table)]
    await soon(lambda: edge_status(edge)["outbox_depth"] == 0)
    # While it failed the status page said why; the success cleared it.
    assert edge_status(edge)["last_push_error"] is None


async def test_the_status_page_shows_why_pushes_fail(loops):
    edge, sync, cloud, clock = loops
    await soon(lambda: cloud.polling)
    cloud.answers = [(500, "Server error.")]
    seat(edge, branch_tables(edge)[0], 6)
    error = await soon(lambda: edge_status(edge)["last_push_error"])
    assert error["error"] == "answered 500: Server error."
    assert edge_status(edge)["outbox_depth"] == 1


async def test_a_gap_rewinds_to_the_clouds_mark_and_sends_again(loops):
    edge, sync, cloud, clock = loops
    first, second = branch_tables(edge)[:2]
    seat(edge, first, 6)
    await soon(lambda: cloud.mark > 0)
    acked = cloud.mark
    cloud.restore_from_backup()
    seat(edge, second, 8)
    await soon(lambda: cloud.mark > acked)
    assert [p[2] for p in cloud.pushes] == [200, 409, 200]
    assert cloud.pushes[1][0] == acked and cloud.pushes[2][0] == 0    # rewound to 0
    assert sorted(a[1:] for a in cloud.applied) == [("tables", first), ("tables", second)]
    await soon(lambda: edge_status(edge)["acked_seq"] == cloud.mark)
    assert dead_letters(edge) == []


async def test_a_batch_refused_for_good_is_parked_and_the_next_one_goes(loops):
    edge, sync, cloud, clock = loops
    first, second = branch_tables(edge)[:2]
    cloud.answers = [(422, "changes.0.row: not a row")]
    seat(edge, first, 6)
    parked = await soon(lambda: dead_letters(edge))
    assert parked == [(0, "tables", first, "refused by the cloud (422): changes.0.row: not a row")]
    seat(edge, second, 8)
    await soon(lambda: cloud.applied)
    assert [a[1:] for a in cloud.applied] == [("tables", second)]      # never the parked one
    await soon(lambda: edge_status(edge)["outbox_depth"] == 0)
    assert edge_status(edge)["dead_letters"] == 1
    # The cloud's mark stayed before the refused batch: one gap, and the cloud moves
    # past it with the next batch. No backoff, no retry of the refused one.
    assert [p[2] for p in cloud.pushes] == [422, 409, 200]
    assert edge_status(edge)["acked_seq"] == cloud.mark == cloud.pushes[-1][1]


def six_changes(edge):
    """Six tables of the branch changed in one commit (six changes); their ids."""
    tables = branch_tables(edge)[:6]
    edge.node.store.call(lambda: [models.Table.update(seating_capacity=9).where(
        models.Table.id == t).execute() for t in tables])
    return tables


async def test_far_behind_the_next_batch_goes_before_the_answer_and_a_failure_drops_it(
        loops, monkeypatch):
    edge, sync, cloud, clock = loops
    monkeypatch.setattr(outbox, "BATCH_SIZE", 2)         # two changes a batch...
    monkeypatch.setattr(client, "DEEP", 2)               # ...say the edge is far behind
    await soon(lambda: cloud.polling)
    cloud.holding = True
    cloud.answers = [(503, "busy")]
    tables = six_changes(edge)
    await soon(lambda: cloud.arrived == 2)
    await quiet()
    assert cloud.arrived == 2 and cloud.pushes == []     # two in flight, no more
    cloud.holding = False
    for push in cloud.held:
        push.set_result(None)
    # The first failed, so the second could not go in (a gap) and its answer is
    # dropped: after the backoff the edge sends from its acknowledged position again.
    await soon(lambda: len(cloud.pushes) == 2)
    await backing_off(edge)
    await advance_until(clock, lambda: edge_status(edge)["outbox_depth"] == 0)
    assert [p[2] for p in cloud.pushes] == [503, 409, 200, 200, 200]
    seqs = [a[0] for a in cloud.applied]
    assert seqs == sorted(set(seqs)) and len(seqs) == 6      # each once, in order
    assert sorted(a[2] for a in cloud.applied) == sorted(tables)
    assert edge_status(edge)["acked_seq"] == cloud.mark and dead_letters(edge) == []


async def test_a_batch_that_overtook_the_one_before_is_sent_again_without_a_rewind(
        loops, monkeypatch):
    edge, sync, cloud, clock = loops
    monkeypatch.setattr(outbox, "BATCH_SIZE", 2)
    monkeypatch.setattr(client, "DEEP", 2)
    await soon(lambda: cloud.polling)
    cloud.holding = True
    tables = six_changes(edge)
    await soon(lambda: cloud.arrived == 2)
    cloud.holding = False
    cloud.held[1].set_result(None)                       # the second is read first: a gap
    await soon(lambda: cloud.pushes)
    cloud.held[0].set_result(None)
    await soon(lambda: edge_status(edge)["outbox_depth"] == 0)      # no backoff waited out
    # (One more may have gone, and been dropped, before the 409 was read.)
    assert cloud.pushes[:2] == [(2, 4, 409), (0, 2, 200)]
    assert [p for p in cloud.pushes[2:] if p[2] == 200] == [(2, 4, 200), (4, 6, 200)]
    assert all(p[0] >= 2 for p in cloud.pushes[2:])      # never rewound to the start
    assert sorted(a[2] for a in cloud.applied) == sorted(tables)
    assert edge_status(edge)["last_push_error"] is None and dead_letters(edge) == []


@pytest.mark.parametrize("code", [401, 408, 429])
async def test_an_answer_that_may_change_is_retried_not_parked(loops, code):
    edge, sync, cloud, clock = loops
    await soon(lambda: cloud.polling)
    cloud.answers = [(code, "try again")]
    seat(edge, branch_tables(edge)[0], 6)
    await soon(lambda: len(cloud.pushes) == 1)
    await backing_off(edge)
    clock.advance(0.56)
    await soon(lambda: cloud.applied)
    assert [p[2] for p in cloud.pushes] == [code, 200] and dead_letters(edge) == []


async def test_after_an_outage_sync_resumes_as_soon_as_the_cloud_answers(loops):
    edge, sync, cloud, clock = loops
    tables = branch_tables(edge)
    seat(edge, tables[0], 6)
    await soon(lambda: cloud.applied and cloud.polling)
    # The cloud goes away while the edge keeps taking orders.
    cloud.down = True
    seat(edge, tables[1], 8)
    for delay in (0.55, 1.1):
        await backing_off(edge)
        clock.advance(delay + 0.01)
    await backing_off(edge)
    assert edge_status(edge)["last_push_error"]["error"] == "unreachable: connection refused"
    seat(edge, tables[2], 10)
    # It comes back. The push loop waits out a backoff of 2.2 s, but the pull loop
    # (its long poll cut, backing off 0.55 s) hears from the cloud first...
    cloud.down = False
    cloud.cut()
    await backing_off(edge, "last_pull_error")
    took = await advance_until(clock, lambda: len(cloud.applied) == 3)
    # ...and the push goes at once: well before its own backoff (2.2 s) would end. (The
    # fake clock moves 0.1 s per 50 ms of real time, so a loaded machine's slower loops
    # show here as a few tenths, never as the whole backoff.)
    assert took < 2.0
    assert sorted(a[1:] for a in cloud.applied) == [("tables", t) for t in tables[:3]]
    assert sorted(set(cloud.received)) == sorted(cloud.received)        # none sent twice
    await soon(lambda: edge_status(edge)["outbox_depth"] == 0)
    after = edge_status(edge)
    assert after["acked_seq"] == cloud.mark and after["last_push_error"] is None
    assert after["last_pull_error"] is None and dead_letters(edge) == []


def _renamed(edge, table_id, code, seq):
    """The cloud's change to a table of the branch, as its feed carries it."""
    row = edge.node.store.call(lambda: rows.read_rows("tables", [table_id])[table_id])
    return {"seq": seq, "table": "tables", "id": table_id, "op": "upsert",
            "row": dict(row, table_code=code)}


def table_code(edge, table_id):
    return edge.node.store.call(lambda: models.Table.get_by_id(table_id).table_code)


async def test_pulled_changes_are_applied_and_a_malformed_one_is_parked(loops):
    edge, sync, cloud, clock = loops
    first, second = branch_tables(edge)[:2]
    await soon(lambda: cloud.polling)
    bad = _renamed(edge, second, "T-99", 2)
    bad["row"]["seating_capacity"] = "many"
    cloud.feed.append(_renamed(edge, first, "T-42", 1))
    cloud.publish(bad)
    await soon(lambda: edge_status(edge)["feed_cursor"] == 2)
    assert table_code(edge, first) == "T-42"
    [(node_id, table, row_id, reason)] = dead_letters(edge)
    assert (node_id, table, row_id) == (ids.CLOUD_NODE_ID, "tables", second)
    assert "seating_capacity" in reason
    assert cloud.applied == []          # the cloud's changes are not pushed back


async def test_a_fault_applying_a_pull_parks_nothing_and_the_pull_is_retried(
        loops, monkeypatch, caplog):
    edge, sync, cloud, clock = loops
    table = branch_tables(edge)[0]
    await soon(lambda: cloud.polling)

    def broken(table, data):
        raise TypeError("a bug")
    monkeypatch.setattr(rows, "upsert", broken)
    with caplog.at_level(logging.ERROR, "branchline.sync"):
        cloud.publish(_renamed(edge, table, "T-42", 1))
        error = await soon(lambda: edge_status(edge)["last_pull_error"])
    assert error["error"] == "TypeError: a bug"
    assert any(r.exc_info and "could not apply" in r.getMessage() for r in caplog.records)
    assert edge_status(edge)["feed_cursor"] == 0 and dead_letters(edge) == []
    pulls = cloud.pulls
    await quiet()
    assert cloud.pulls == pulls                         # backing off, not spinning
    monkeypatch.undo()                                  # the fault mended
    clock.advance(0.6)
    await soon(lambda: edge_status(edge)["feed_cursor"] == 1)
    assert table_code(edge, table) == "T-42"
    assert edge_status(edge)["last_pull_error"] is None and dead_letters(edge) == []


async def test_an_edge_stopping_while_it_connects_to_an_unreachable_cloud_logs_no_error(caplog):
    # A listening socket whose backlog is full: the kernel drops new connections' SYNs,
    # so a connect hangs, as one to a cloud across a dead link does until it times out.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    filler = socket.create_connection(server.getsockname())
    transport = client.HTTPTransport()
    try:
        url = "http://127.0.0.1:%d/sync/push" % server.getsockname()[1]
        with caplog.at_level(logging.ERROR):
            request = asyncio.ensure_future(transport.request("POST", url, b"{}", {}, 30))
            await quiet(0.3)
            request.cancel()            # the edge stops: its push loop is cancelled
            with pytest.raises(asyncio.CancelledError):
                await request
            transport.close()
            await quiet(client.CONNECT_TIMEOUT + 1.0)    # the abandoned connect ends
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    finally:
        filler.close()
        server.close()
