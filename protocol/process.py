"""What every node's process does around its server: options, logging, listening
and clean stops. edge/server.py and cloud/server.py call ``main`` and ``serve``
with what is their own."""

import argparse
import asyncio
import gc
import logging
import signal
import sys

import tornado.httpserver

from . import config


def setup_logging(level):
    logging.basicConfig(
        level=getattr(logging, str(level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("tornado.access").setLevel(logging.WARNING)


async def wait_for_stop_signal():
    """Return on SIGINT or SIGTERM (Ctrl-C, systemd stop, the demo stopping)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


MAX_HEADER_BYTES = 256 * 1024


def http_server(app, settings):
    """An HTTPServer for app; the caller listens. Bodies above the API's limit are
    refused by the handlers with a JSON 413, URLs over 8 KiB with a 414; a head of a
    request over MAX_HEADER_BYTES, or a signed body far over the limit, by Tornado
    itself."""
    return tornado.httpserver.HTTPServer(app, max_body_size=settings.max_body_kb * 1024 * 4,
                                         max_header_size=MAX_HEADER_BYTES)


async def serve(node, app, log, label, *, start=None):
    """Listen with ``app`` on the node's host and port, run ``start(node)`` (background
    loops; it answers an object with ``stop()`` and maybe ``base``, or None), then wait for
    SIGINT/SIGTERM: stop accepting, stop the loops, close connections and the node."""
    settings = node.settings
    server = http_server(app, settings)
    server.listen(settings.port, settings.host)
    gc.freeze()    # start-up's objects: full collections skip them, so no long pauses
    loops = start(node) if start else None
    log.info("%s node %d listening on %s%s%s", label, node.node_id, settings.base_url,
             " for branch %s" % node.branch_name if node.branch_name else "",
             ", syncing with %s" % loops.base if getattr(loops, "base", None) else "")
    print("%s ready: %s" % (label, settings.base_url), flush=True)
    try:
        await wait_for_stop_signal()
    finally:
        server.stop()
        if loops:
            await loops.stop()
        await server.close_all_connections()
        node.close()
        log.info("%s stopped", label)


def main(role, argv, description, serve_settings, *, commands):
    """``branchline-<role>``: a command named in ``commands`` (name -> main(argv)), or
    the server, configured by file, environment and flags (protocol/config.py)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in commands:
        return commands[argv[0]](argv)
    parser = argparse.ArgumentParser(prog="branchline-%s" % role, description=description)
    config.add_arguments(parser, role)
    args = parser.parse_args(argv)
    try:
        settings = config.load(role, args)
    except config.ConfigError as exc:
        sys.exit("branchline-%s: %s" % (role, exc))
    setup_logging(settings.log_level)
    asyncio.run(serve_settings(settings))
