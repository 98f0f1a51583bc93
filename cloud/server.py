"""The cloud's composition root: ``branchline-cloud --help`` lists every option.

It opens the node (store, keys, realtime hub: sync/startup.py), the sync
endpoints' shared state, and the authority that sends writes for a branch an edge
runs to that edge as commands (sync/commands.py), and builds the app from
protocol's route table plus the sync and Pusher routes. Once it listens it starts
the push sender (cloud/push_sender.py), which pushes every notification stored at the
cloud, or arriving from an edge, to its user's phones.
"""

import logging

from protocol import process, realtime
from protocol.app import make_app
from protocol.postgres_pool import open_node_database
from sync import commands, handlers, startup

from . import cli, push_queue, push_sender, realtime_bus

log = logging.getLogger("branchline.cloud")

DESCRIPTION = "Run the Branchline cloud node: every branch, head office and sync."


def open_cloud(settings, *, clock=None, worker=0):
    """The cloud node; with ``redis_url`` its hub shares realtime events with the other
    processes through Redis (cloud/realtime_bus.py), keyed by the app id."""
    node = startup.open_node(settings, clock=clock, db=open_node_database(settings))
    node.store.call_outside_transaction(push_queue.install_trigger, node.store.db)
    if settings.redis_url:
        hub = node.hub
        hub.bus = realtime_bus.RedisBus(
            hub, settings.redis_url, realtime_bus.identity(settings.port, worker),
            "branchline:%s:" % hub.credentials.app_id)
    return node


def make_cloud_app(node):
    sync = handlers.CloudSync(node)
    node.authority = commands.Authority(node, sync.committed, sync.presence)
    return make_app(node, extra_routes=handlers.cloud_routes() + realtime.routes(), sync=sync,
                    branch_sync=sync.branch_states)


async def serve(settings, sockets=None, worker=0):
    """One cloud process; of several (``--workers``), only worker 0 pushes to phones:
    a second sender would send what the first is sending. A worker killed is started
    again under its number, so the sender comes back with it."""
    node = open_cloud(settings, worker=worker)
    await process.serve(node, make_cloud_app(node), log, "cloud",
                        start=push_sender.start if worker == 0 else None, sockets=sockets)


def main(argv=None):
    process.main("cloud", argv, DESCRIPTION, serve, commands={"enroll-code": cli.main,
                                                               "vapid-public-key": cli.main,
                                                               "restored": cli.main})


if __name__ == "__main__":
    main()
