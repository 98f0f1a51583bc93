"""What every node's process does around its server: logging and clean stops."""

import asyncio
import logging
import signal


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


def http_server(app, settings):
    """An HTTPServer for app; the caller listens. Bodies above the API's limit are
    refused by the handlers with a JSON 413; far larger ones by Tornado itself."""
    import tornado.httpserver
    return tornado.httpserver.HTTPServer(app, max_body_size=settings.max_body_kb * 1024 * 4)


async def serve_until_stopped(server, node, log, label, cleanup=()):
    """Wait for SIGINT/SIGTERM, then stop accepting, run ``cleanup`` coroutine
    functions (background loops), close connections and the node."""
    print("%s ready: %s" % (label, node.settings.base_url), flush=True)
    try:
        await wait_for_stop_signal()
    finally:
        server.stop()
        for stop in cleanup:
            await stop()
        await server.close_all_connections()
        node.close()
        log.info("%s stopped", label)
