"""Commands: the branch's own writes made elsewhere than at the branch's edge.

At the cloud, ``Authority`` (installed as ``node.authority``) tells the API
whether a write is sent to a branch's edge: sync/writes.py says which writes are
the branch's own, and a branch an active edge runs has its own writes made
there. Such a write becomes a ``sync_commands`` row, which the feed carries to
the edge; the edge runs it with the same domain code as a local request
(``run_pending``), under the request's Idempotency-Key when it had one, and
writes a ``sync_command_results`` row in the same transaction, so it runs once
whatever is retried (at the cloud or, after a failover, at the edge itself);
the push carries the result back, and the waiting request at the cloud answers
with it. A command not answered within WAIT_SECONDS is answered 202 (queued: it
will still run, and the same request sent again answers with its result). An
edge that is not listening (sync/presence.py) gets nothing queued: the request
is answered 503 with Retry-After at once. A command the edge gets after
COMMAND_TTL is answered "expired", not run late.
"""

import asyncio
import datetime
import logging

import peewee

from protocol import commands, ids, models, rider_accounts, wire
from protocol.accounts import actor_for
from protocol.database import database, is_postgres, lock_key
from protocol.errors import APIError, ServiceUnavailable, Unauthenticated, ValidationFailed

from . import presence, writes
from .models import Command, CommandResult, SyncNode

log = logging.getLogger("branchline.sync")

WAIT_SECONDS = 8.0
COMMAND_TTL = datetime.timedelta(minutes=10)
RETRY_AFTER = 30


def _edge_of(branch_id):
    """(edge node, branch) of a branch an active edge runs, or None."""
    node = SyncNode.get_or_none((SyncNode.branch_id == branch_id) &
                                (SyncNode.retired == False))  # noqa: E712
    if node is None:
        return None
    return node, models.Branch.get_by_id(branch_id)


def _queue(branch_id, user_id, kind, args, key, status, now, new=True):
    """(the command's id, its result or None): the one queued before under the same
    Idempotency-Key (which must then be the same request, as protocol.idempotency
    requires of local writes), else a new one (id None when ``new`` is false)."""
    request_key = "%d:%s" % (user_id, key) if key else None
    payload = wire.dumps(args)
    if request_key:
        lock_key("command:" + request_key)       # a retry on another cloud process waits
        found = Command.get_or_none(Command.request_key == request_key)
        if found is not None:
            if (found.kind, found.payload) != (kind, payload):
                raise ValidationFailed.field(
                    "Idempotency-Key", "This Idempotency-Key was already used for a "
                    "different request.")
            return found.id, _result_of(found.id)
    if not new:
        return None, None
    return Command.create(id=ids.new_id(), branch_id=branch_id, user_id=user_id, kind=kind,
                          payload=payload, success_status=status,
                          request_key=request_key, expires_at=now + COMMAND_TTL,
                          created_at=now).id, None


def _result_of(command_id):
    result = CommandResult.get_or_none(CommandResult.id == command_id)
    return (result.status_code, wire.loads(result.body)) if result else None


class Authority:
    def __init__(self, node, committed, presence):
        self.node = node
        self.committed = committed
        self.presence = presence

    def sends(self, fn):
        return writes.is_command(fn)

    async def edge_for(self, branch_id):
        """(edge node, branch) when an active edge runs branch_id, else None (the
        write is made here); ``send`` takes the pair."""
        return await self.node.store.run(_edge_of, branch_id)

    async def send(self, auth, runs_it, kind, payload, key, status):
        """(status, body) of the command once the edge has run it, or 202 when it
        is still queued after WAIT_SECONDS. ``runs_it``: what ``edge_for`` answered."""
        store, now = self.node.store, self.node.clock.now()
        edge, branch = runs_it
        listening = self.presence.listening(edge.node_id) or (
            not self.presence.hung_up(edge.node_id, edge.last_pull_at) and
            presence.pulled_lately(edge, now, is_postgres(store.db)))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        # Armed before each read: a result committed while it runs still wakes us.
        rung = asyncio.ensure_future(self.committed.wait(WAIT_SECONDS))
        try:
            command_id, result = await store.run(_queue, auth.branch_id, auth.user_id, kind,
                                                 payload, key, status, now, listening)
            if result is not None:
                return result               # a retry of a request already carried out
            if not listening:
                raise ServiceUnavailable(
                    "%s's branch server cannot be reached right now, so it cannot take "
                    "this%s. Please try again shortly." % (
                        branch.name, "" if command_id else "; nothing was done"),
                    retry_after=RETRY_AFTER)
            while result is None:
                if not await rung:
                    return 202, {"success": True, "queued": True, "command_id": command_id,
                                 "message": "Sent to %s; it will be confirmed shortly."
                                            % branch.name}
                rung = asyncio.ensure_future(self.committed.wait(
                    max(0.0, deadline - loop.time())))
                result = await store.run(_result_of, command_id)
            return result
        finally:
            rung.cancel()


def run_pending(branch_id, now):
    """Run the branch's commands that have no result yet; answers how many ran."""
    pending = list(Command.select().join(
        CommandResult, peewee.JOIN.LEFT_OUTER, on=(Command.id == CommandResult.id))
        .where((Command.branch_id == branch_id) & CommandResult.id.is_null())
        .order_by(Command.created_at, Command.id))
    for command in pending:
        if command.expires_at <= now:
            code, body = 410, {"success": False, "message": "This request reached the branch "
                                                           "too late and was not carried out."}
        else:
            code, body = _execute(command, branch_id, now)
        CommandResult.create(id=command.id, branch_id=branch_id, status_code=code,
                             body=wire.dumps(body), created_at=now)
    return len(pending)


def _author(fn, author_id, branch_id):
    """Who a command runs as: its user, or for the rider app's writes its rider
    (sync/writes.py BY_RIDER); 401 when they are gone or deactivated."""
    if fn in writes.BY_RIDER:
        return rider_accounts.rider_actor(author_id, branch_id)
    user = models.User.get_or_none(models.User.id == author_id)
    if user is None or not user.is_active:
        raise Unauthenticated()
    return actor_for(user, branch_id)


def _execute(command, branch_id, now):
    fn = writes.COMMANDS.get(command.kind)
    if fn is None:
        return 422, {"success": False, "message": "This branch server does not know this "
                                                  "request (%s); update it." % command.kind}
    try:
        with database.atomic():
            actor = _author(fn, command.user_id, branch_id)
            return commands.execute(fn, actor, wire.loads(command.payload),
                                    command.success_status, now)
    except APIError as exc:
        return exc.status, exc.body()
    except (ValueError, TypeError, KeyError) as exc:
        return 422, {"success": False, "message": "The branch could not carry this out: %s"
                                                  % exc}
    except Exception:       # noqa: BLE001 - every command gets an answer, even a failure
        log.exception("command %d (%s) failed", command.id, command.kind)
        return 500, {"success": False, "message": "The branch could not carry this out."}
