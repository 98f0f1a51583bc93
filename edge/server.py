"""The edge's composition root: ``branchline-edge --help`` lists every option.

It opens the node (store, keys, realtime hub: sync/startup.py), its place on the
LAN (addresses and TLS certificate: edge/lan.py), builds the app from protocol's
route table plus the edge's status page and the Pusher routes, listens (HTTPS
unless plain_http), then announces itself on the LAN and, when the box is
enrolled, starts the push and pull loops (sync/client.py), which also tell the
cloud where the edge is.
"""

import asyncio
import logging

from protocol import locations, process, realtime
from protocol.app import make_app
from sync import enrollment, handlers, startup
from sync.client import EdgeSync

from . import cli, discover
from .lan import Lan

log = logging.getLogger("branchline.edge")

DESCRIPTION = ("Run a Branchline edge: the POS API for one branch on the shop's LAN. "
               "Other commands: 'branchline-edge enroll --help' (enroll this box with "
               "the cloud), 'branchline-edge sync status' (sync health), 'branchline-edge "
               "backup' and 'restore' (a copy of the box), 'branchline-edge "
               "discover' (the edges on this LAN).")


def open_edge(settings, *, clock=None):
    """The edge's node, as the box enrolled it (sync/enrollment.py)."""
    enrollment.apply_to_settings(settings)
    return startup.open_node(settings, clock=clock)


def make_edge_app(node):
    return make_app(node, extra_routes=handlers.edge_routes() + realtime.routes(),
                    branch_sync=handlers.edge_branch_sync(node))


def start_sync(node):
    """The push and pull loops, when the box is enrolled with a cloud; else None."""
    cloud_url = node.settings.values.get("cloud_url")
    if not cloud_url or enrollment.read(node.settings.data_dir) is None:
        return None
    sync = EdgeSync(node, cloud_url)
    sync.start()
    return sync


def open_lan(node):
    """The edge's addresses and certificate (made or renewed now); nothing announced yet."""
    return Lan(node, restaurant=node.store.call(locations.restaurant_of, node.branch_id))


def start_lan(node, lan, sync):
    """Announce the edge (when ``announce``) and keep where it is recorded here and,
    through ``sync`` when enrolled, at the cloud."""
    def located(report):
        recorded = asyncio.ensure_future(node.store.run(
            locations.record, node.node_id, node.branch_id, report, node.clock.now()))
        recorded.add_done_callback(_log_failure)
        if sync is not None:
            sync.report_location(report)
    lan.on_change = located
    lan.start()


def _log_failure(future):
    if not future.cancelled() and future.exception() is not None:
        log.error("could not record where this edge is", exc_info=future.exception())


class Running:
    """What an edge runs beside its server: its LAN presence and, when enrolled, sync."""

    def __init__(self, lan, sync):
        self.lan, self.sync = lan, sync

    @property
    def summary(self):
        parts = ["announced as %r" % self.lan.name if self.lan.settings.announce else ""]
        parts.append(self.sync.summary if self.sync else "")
        return ", ".join(p for p in parts if p)

    async def stop(self):
        await self.lan.stop()
        if self.sync is not None:
            await self.sync.stop()


def start_edge(node, lan):
    sync = start_sync(node)
    start_lan(node, lan, sync)
    return Running(lan, sync)


async def serve(settings):
    node = open_edge(settings)
    lan = open_lan(node)
    await process.serve(node, make_edge_app(node), log, "edge",
                        start=lambda node: start_edge(node, lan), ssl=lan.ssl_context)


def main(argv=None):
    process.main("edge", argv, DESCRIPTION, serve, commands={
        "enroll": cli.main, "sync": cli.main, "backup": cli.main, "restore": cli.main, "discover": discover.edge_main})


if __name__ == "__main__":
    main()
