"""The edge's composition root: ``branchline-edge --help`` lists every option.

It opens the node (store, keys, realtime hub: sync/startup.py), builds the app
from protocol's route table plus the edge's status page and the Pusher routes,
and, when the box is enrolled, starts the push and pull loops (sync/client.py).
"""

import logging

from protocol import process, realtime
from protocol.app import make_app
from sync import enrollment, handlers, startup
from sync.client import EdgeSync

from . import cli

log = logging.getLogger("branchline.edge")

DESCRIPTION = ("Run a Branchline edge: the POS API for one branch on the shop's LAN. "
               "Other commands: 'branchline-edge enroll --help' (enroll this box with "
               "the cloud), 'branchline-edge sync status' (sync health).")


def open_edge(settings, *, clock=None):
    """The edge's node, as the box enrolled it (sync/enrollment.py)."""
    enrollment.apply_to_settings(settings)
    return startup.open_node(settings, clock=clock)


def make_edge_app(node):
    return make_app(node, extra_routes=handlers.edge_routes() + realtime.routes())


def start_sync(node):
    """The push and pull loops, when the box is enrolled with a cloud; else None."""
    cloud_url = node.settings.values.get("cloud_url")
    if not cloud_url or enrollment.read(node.settings.data_dir) is None:
        return None
    sync = EdgeSync(node, cloud_url)
    sync.start()
    return sync


async def serve(settings):
    node = open_edge(settings)
    await process.serve(node, make_edge_app(node), log, "edge", start=start_sync)


def main(argv=None):
    process.main("edge", argv, DESCRIPTION, serve, commands={"enroll": cli.main,
                                                             "sync": cli.main})


if __name__ == "__main__":
    main()
