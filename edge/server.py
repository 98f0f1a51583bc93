"""Start the edge node: ``branchline-edge --help`` lists every option."""

import argparse
import asyncio
import logging
import sys

from protocol import config
from protocol.app import make_app
from protocol.node import build_node
from protocol.process import http_server, serve_until_stopped, setup_logging

log = logging.getLogger("branchline.edge")


def parser():
    p = argparse.ArgumentParser(prog="branchline-edge", description="Run a Branchline edge: the POS API for one branch on the shop's LAN.")
    config.add_arguments(p, "edge")
    return p


def make_edge_app(node):
    return make_app(node)


async def serve(settings):
    node = build_node(settings)
    server = http_server(make_edge_app(node), settings)
    server.listen(settings.port, settings.host)
    log.info("edge node %d listening on %s%s", node.node_id, settings.base_url,
             " for branch %s" % node.branch_name if node.branch_name else "")
    await serve_until_stopped(server, node, log, "edge")


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        settings = config.load("edge", args)
    except config.ConfigError as exc:
        sys.exit("branchline-edge: %s" % exc)
    setup_logging(settings.log_level)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
