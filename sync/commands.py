"""Commands: writes for a branch made elsewhere than at the branch's edge.

At the cloud, ``Authority`` (installed as ``node.authority``) tells the API
that a branch is run by an edge. A write there (a customer-app order, a
head-office cancel) becomes a ``sync_commands`` row, which the feed carries to
the edge; the edge runs it with the same domain code as a local request
(``run_pending``) and writes a ``sync_command_results`` row in the same
transaction, so it runs once whatever is retried; the push carries the result
back, and the waiting request at the cloud answers with it. A command that is
not answered within WAIT_SECONDS is answered 202 (queued: it will still run,
and GET /customer/orders shows the order when it has). When the edge has not
been heard from for longer than the restaurant's cut-off, the cloud refuses
new commands with 503 and Retry-After instead of queueing work nobody will do;
a command the edge gets after COMMAND_TTL is answered "expired", not run late.
"""

import asyncio
import datetime
import logging

import peewee

from protocol import commands, ids, models, wire
from protocol.database import database
from protocol.errors import APIError, ServiceUnavailable, ValidationFailed

from .models import Command, CommandResult, SyncNode

log = logging.getLogger("branchline.sync")

WAIT_SECONDS = 8.0
COMMAND_TTL = datetime.timedelta(minutes=10)
RETRY_AFTER = 60


def _edge_of(branch_id):
    """(edge node, branch, cut-off minutes) of a branch an active edge runs, or None."""
    node = SyncNode.get_or_none((SyncNode.branch_id == branch_id) &
                                (SyncNode.retired == False))  # noqa: E712
    if node is None:
        return None
    branch = models.Branch.get_by_id(branch_id)
    return node, branch, branch.restaurant.customer_order_cutoff_minutes


def _queue(branch_id, user_id, kind, args, key, status, now):
    """The command's id: a new one, or the one queued before under the same
    Idempotency-Key (which must then be the same request, as protocol.idempotency
    requires of local writes)."""
    request_key = "%d:%s" % (user_id, key) if key else None
    payload = wire.dumps(args)
    if request_key:
        found = Command.get_or_none(Command.request_key == request_key)
        if found is not None:
            if (found.kind, found.payload) != (kind, payload):
                raise ValidationFailed.field(
                    "Idempotency-Key", "This Idempotency-Key was already used for a "
                    "different request.")
            return found.id
    return Command.create(id=ids.new_id(), branch_id=branch_id, user_id=user_id, kind=kind,
                          payload=payload, success_status=status,
                          request_key=request_key, expires_at=now + COMMAND_TTL,
                          created_at=now).id


def _result_of(command_id):
    result = CommandResult.get_or_none(CommandResult.id == command_id)
    return (result.status_code, wire.loads(result.body)) if result else None


class Authority:
    def __init__(self, node, committed):
        self.node = node
        self.committed = committed

    async def runs_elsewhere(self, branch_id):
        return await self.node.store.run(_edge_of, branch_id) is not None

    async def where(self, branch_id):
        _, branch, _ = await self.node.store.run(_edge_of, branch_id)
        return ("%s is run by its own branch server; make this change there (on the branch's "
                "network)." % branch.name)

    async def send(self, auth, kind, args, key, status):
        """(status, body) of the command once the edge has run it, or 202 when it
        is still queued after WAIT_SECONDS."""
        store, now = self.node.store, self.node.clock.now()
        edge, branch, cutoff = await store.run(_edge_of, auth.branch_id)
        seen = edge.last_seen
        if seen is None or (now - seen).total_seconds() > cutoff * 60:
            raise ServiceUnavailable(
                "%s's branch server cannot be reached right now, so it cannot take this. "
                "Please try again later." % branch.name, retry_after=RETRY_AFTER)
        command_id = await store.run(_queue, auth.branch_id, auth.user_id, kind, args, key,
                                     status, now)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        while True:
            result = await store.run(_result_of, command_id)
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return 202, {"success": True, "queued": True, "command_id": command_id,
                             "message": "Sent to %s; it will be confirmed shortly."
                                        % branch.name}
            await self.committed.wait(remaining)


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


def _execute(command, branch_id, now):
    try:
        with database.atomic():
            body = commands.execute(command.kind, command.user_id, branch_id,
                                    wire.loads(command.payload), now)
        return command.success_status, body
    except APIError as exc:
        return exc.status, exc.body()
    except (ValueError, TypeError, KeyError) as exc:
        return 422, {"success": False, "message": "The branch could not carry this out: %s"
                                                  % exc}
    except Exception:       # noqa: BLE001 - every command gets an answer, even a failure
        log.exception("command %d (%s) failed", command.id, command.kind)
        return 500, {"success": False, "message": "The branch could not carry this out."}
