"""Start the edge node: ``branchline-edge --help`` lists every option."""

import argparse
import asyncio
import gc
import logging
import sys

from protocol import config, realtime
from protocol.app import make_app
from protocol.node import build_node
from protocol.process import http_server, serve_until_stopped, setup_logging
from sync import capture, enrollment, handlers
from sync.client import EdgeSync

log = logging.getLogger("branchline.edge")


def parser():
    p = argparse.ArgumentParser(
        prog="branchline-edge",
        description="Run a Branchline edge: the POS API for one branch on the shop's LAN. "
                    "Other commands: 'branchline-edge enroll --help' (enroll this box with "
                    "the cloud), 'branchline-edge sync status' (sync health).")
    config.add_arguments(p, "edge")
    return p


def open_edge(settings, **kwargs):
    """The edge's node, as the box enrolled it (sync/enrollment.py)."""
    enrollment.apply_to_settings(settings)
    return build_node(settings, on_open=[capture.install_triggers], **kwargs)


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
    server = http_server(make_edge_app(node), settings)
    server.listen(settings.port, settings.host)
    gc.freeze()    # start-up's objects: full collections skip them, so no long pauses
    sync = start_sync(node)
    log.info("edge node %d listening on %s for branch %s%s", node.node_id, settings.base_url,
             node.branch_name, ", syncing with %s" % sync.base if sync else " (not enrolled)")
    await serve_until_stopped(server, node, log, "edge", cleanup=[sync.stop] if sync else [])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("enroll", "sync"):
        from edge import commands
        return commands.main(argv)
    args = parser().parse_args(argv)
    try:
        settings = config.load("edge", args)
    except config.ConfigError as exc:
        sys.exit("branchline-edge: %s" % exc)
    setup_logging(settings.log_level)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
