"""Offline-first replication between edges and the cloud.

How a change travels from a tablet to head office
--------------------------------------------------

1. **Capture** (capture.py). A waiter's order is written at the Downtown edge
   by the ordinary domain code. SQLite triggers on every replicated table add
   one ``change_log`` row per row written (table, id, upsert|delete, the row's
   branch and restaurant, origin 0 = "written here"), inside the same
   transaction. Nothing in the domain code knows about sync, so nothing can
   forget it. A change travels as the row's latest state, encoded with the
   models' own fields (rows.py: the codec, bulk reads and writes, a row's scope).

2. **Push** (outbox.py, client.py at the edge; ingest.py at the cloud). The
   edge's push loop wakes on every commit, reads its own change-log entries
   after the last acknowledged sequence number, and sends them as one batch:
   ``POST /sync/push {"after": A, "upto": U, "changes": [{seq, table, id, op,
   row}]}``, each change carrying the row's current state. One batch is in
   flight; while the edge is far behind (a catch-up), two, their answers taken
   in order, and any answer but "taken whole" drops the one after it, which the
   cloud cannot have applied unless it applied the one before (client.py). The
   cloud applies the batch in one transaction together with the
   edge's high-water mark: ``after`` beyond the mark is a gap (409 with the mark;
   the edge rewinds), changes at or below the mark are skipped (a repeat does
   nothing twice and gets the same answer), the rest are upserted by id
   (apply.py: the one apply loop of both directions). Changes the edge may not
   make (head office's tables, another branch's or restaurant's rows:
   ownership.py) or that can never be stored (a row that cannot be read, a key
   to a row that does not exist) are refused for good, parked as dead letters
   on both sides, and never block the queue; so is a whole batch the cloud
   answers with a 4xx other than 401, 408, 409 and 429. Any other failure is
   not a refusal: nothing of the batch is kept, the cloud answers 500, the
   failure shows on both status pages, and the edge sends the batch again
   after a backoff. The edge moves its acknowledged position only after the
   answer, in the transaction that parks the refusals. At-least-once delivery
   plus idempotent apply: exactly-once effect.

3. **Feed** (feed.py at the cloud; inbox.py, client.py at the edge). The edge
   long-polls ``GET /sync/pull?after=C&wait=20``: the cloud's change-log
   entries after the edge's cursor that its branch may see (its own rows, its
   restaurant's, global ones), less those that came from that edge, as latest
   row states with credentials left out. (So a branch's rows applied from its
   edge are not logged at the cloud at all: nobody would read them; capture.py.) A commit at the cloud wakes waiting
   polls, so a head-office price change reaches an online edge within a second
   or two. The edge applies the batch with origin = the cloud (so it is not
   pushed back; apply.py, as the cloud does) and stores the cursor in the same
   transaction; a row with a local change not yet acknowledged is left alone,
   so a local change is never overwritten by an older state from the cloud. A
   change refused for good is parked; any other failure stores nothing and the
   pull is tried again after a backoff.

4. **Trust** (enrollment.py, auth.py). A box enrolls with a one-time code from
   head office and its own Ed25519 key; every sync request is signed with that
   key (method, path, time, body hash) and checked against the enrolled key.
   The same key signs the box's login tokens, which the cloud therefore
   accepts, and the box trusts the cloud's token key, so a tablet can fail over
   either way without logging in again. Enrolling a replacement box retires the
   old key; the new box downloads a snapshot of its branch (numbering included)
   and continues.

Resilience: both loops back off (backoff.py: min, x2, jitter 0.8-1.4, cap) on
network errors, 5xx, 408, 429 and 401, without spinning, and the push loop
resumes at once when the pull loop hears from the cloud again. The loops take
the node's clock and a transport (client.py), so tests/test_sync_loops.py runs
them against a fake cloud in fake time. Health: ``/sync/status`` on the edge
(outbox depth, oldest unsent change, last push and pull and why the last one
failed, dead letters) and at the cloud for every edge of the restaurant, with
the last push that failed there (status.py).

5. **Commands** (commands.py). A write at the cloud for a branch an edge runs
   (a customer-app order, a head-office cancel) is not made at the cloud: it
   becomes a ``sync_commands`` row the feed carries to the edge, which runs it
   with the same domain code and writes its answer in the same transaction
   (so it runs once); the push brings the answer back to the waiting request.
   An edge not heard from for longer than the restaurant's cut-off gets no new
   commands: the cloud answers 503 with Retry-After.

6. **Shared rows** (merge.py, applied by apply.py). Customers and their addresses may be written
   anywhere; each field carries a hybrid-logical-clock stamp
   (protocol/hlc.py) and merges keep, field by field, the later one, with a
   bound on how far ahead a clock may be. A shared row is never deleted: the
   Airport edge cannot see Downtown's orders, so deleting a customer there marks
   the row ``deleted_at`` (a field like any other, stamped and merged), which
   hides it from every lookup (protocol/customers.py, which also says what
   revives it) while every branch's orders keep their customer. A hard delete of
   a shared row, from a node running older code, is refused and parked
   (sync/apply.py, sync/ownership.py ``NEVER_DELETED``).

7. **The cloud on PostgreSQL** (postgres.py). The same triggers, as plpgsql
   functions; the origin of what is being applied is a transaction-local
   setting. With several writers a sequence number is taken before its
   transaction commits, so a reader that moved past number 11 could miss a
   number 10 committed later. We chose a transaction-id watermark over logical
   decoding (which needs a replication slot per reader and ``wal_level=logical``,
   and a process draining it): a change's number is its transaction's id
   followed by its rank in that transaction, and the feed reads only below
   ``pg_snapshot_xmin(pg_current_snapshot())``, the id under which every
   transaction has ended. Nothing can appear below that line any more, so a
   cursor that moved up to it skips nothing and repeats nothing; the edge's
   cursor stays one integer. A long transaction holds every feed back until it
   ends (the long poll looks again while changes wait behind it).
   tests/test_postgres_feed.py interleaves long and short transactions from
   several connections and checks that no reader misses or repeats one.

8. **Several cloud processes** over one PostgreSQL database. Any of them takes
   any request: the edge's high-water mark is read ``FOR UPDATE`` (ingest.py),
   so two pushes of one edge landing on two processes apply one after the
   other; every commit that wrote is announced with NOTIFY and the other
   processes ring their commit listeners (protocol/database.py
   ``CommitListener``), so a long poll or a command waiting in one process wakes
   on a push or a command made in another; a token revoked anywhere (a logout,
   a revocation synced from an edge) is announced by a trigger and refused by
   every process at once; an edge enrolled through one process is admitted by
   another on its first request or token (handlers.py ``refresh``), and a box
   retired (replaced) anywhere is refused by every process at once (a trigger
   on sync_nodes announces it, migration 0015); what a process's listener
   missed while reconnecting is read again once it is back.

Not yet here: realtime events across processes (each process's WebSocket
clients see only what it publishes).
"""
