"""Start the cloud node: ``branchline-cloud --help`` lists every option."""

import argparse
import asyncio
import gc
import logging
import sys

from protocol import config, realtime
from protocol.app import make_app
from protocol.node import build_node
from protocol.process import http_server, serve_until_stopped, setup_logging
from sync import capture, handlers

log = logging.getLogger("branchline.cloud")


def parser():
    p = argparse.ArgumentParser(prog="branchline-cloud", description='Run the Branchline cloud node: every branch, head office and sync.')
    config.add_arguments(p, "cloud")
    return p


def open_cloud(settings, **kwargs):
    return build_node(settings, on_open=[capture.install_triggers], **kwargs)


def make_cloud_app(node):
    return make_app(node, extra_routes=handlers.cloud_routes() + realtime.routes(),
                    sync=handlers.CloudSync(node))


async def serve(settings):
    node = open_cloud(settings)
    server = http_server(make_cloud_app(node), settings)
    server.listen(settings.port, settings.host)
    gc.freeze()    # start-up's objects: full collections skip them, so no long pauses
    log.info("cloud node %d listening on %s%s", node.node_id, settings.base_url,
             " for branch %s" % node.branch_name if node.branch_name else "")
    await serve_until_stopped(server, node, log, "cloud")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "enroll-code":
        from cloud import commands
        return commands.main(argv)
    args = parser().parse_args(argv)
    try:
        settings = config.load("cloud", args)
    except config.ConfigError as exc:
        sys.exit("branchline-cloud: %s" % exc)
    setup_logging(settings.log_level)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
