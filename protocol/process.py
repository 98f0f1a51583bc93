"""What every node's process does around its server: options, logging, listening
and clean stops. edge/server.py and cloud/server.py call ``main`` and ``serve``
with what is their own.

A cloud on PostgreSQL may run ``workers`` processes on one port: the first binds
a listening socket for each (``worker_sockets``) and forks them (``run_workers``),
each opening its own node over the shared database, and any of them takes any
request. What they must agree on is in the database, not in a process: limits
(protocol/ratelimit.py), revocations and enrolled edges (announced by triggers,
re-read when a listener reconnects: protocol/database.py CommitListener); while the
database is out of reach each answers 503 and recovers by itself.
"""

import argparse
import asyncio
import ctypes
import gc
import logging
import os
import signal
import sys

import tornado.httpserver
import tornado.netutil

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


def http_server(app, settings, *, ssl=None):
    """An HTTPServer for app (HTTPS with the SSLContext ``ssl``); the caller listens.
    Bodies above the API's limit are refused by the handlers with a JSON 413, URLs over
    8 KiB with a 414; a head of a request over MAX_HEADER_BYTES, or a signed body far
    over the limit, by Tornado itself. Behind a proxy (the ``behind_proxy`` setting)
    the client's address and scheme are taken from the headers the proxy sets
    (X-Real-IP, X-Forwarded-For, X-Forwarded-Proto); otherwise those headers are
    ignored, so a client talking to the port directly cannot choose its address."""
    return tornado.httpserver.HTTPServer(app, max_body_size=settings.max_body_kb * 1024 * 4,
                                         max_header_size=MAX_HEADER_BYTES, ssl_options=ssl,
                                         xheaders=bool(settings.values.get("behind_proxy")))


async def serve(node, app, log, label, *, start=None, ssl=None, sockets=None):
    """Listen with ``app`` on the node's host and port (HTTPS with the SSLContext
    ``ssl``; or on ``sockets``, bound before the workers were forked), run
    ``start(node)`` (background work; it answers an object with ``async stop()`` and
    ``summary``, a phrase for the log, or None), then wait for SIGINT/SIGTERM: stop
    accepting, stop the background work, close connections and the node."""
    settings = node.settings
    await node.hub.start()
    server = http_server(app, settings, ssl=ssl)
    if sockets:
        server.add_sockets(sockets)
    else:
        server.listen(settings.port, settings.host)
    gc.freeze()    # start-up's objects: full collections skip them, so no long pauses
    loops = start(node) if start else None
    summary = loops.summary if loops else ""
    log.info("%s node %d listening on %s%s%s", label, node.node_id, settings.base_url,
             " for branch %s" % node.branch_name if node.branch_name else "",
             ", %s" % summary if summary else "")
    print("%s ready: %s%s" % (label, settings.base_url, " (TLS certificate SHA-256 %s)"
                              % node.tls_fingerprint if node.tls_fingerprint else ""),
          flush=True)
    try:
        await wait_for_stop_signal()
    finally:
        server.stop()
        if loops:
            await loops.stop()
        await server.close_all_connections()
        await node.hub.stop()
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
    workers = settings.values.get("workers", 1)
    if workers <= 1:
        asyncio.run(serve_settings(settings))
        return
    if not settings.values.get("database_url"):
        sys.exit("branchline-%s: several workers need a shared database: set database_url "
                 "(PostgreSQL)" % role)
    sockets = worker_sockets(settings.port, settings.host, workers)
    sys.exit(run_workers(workers, lambda n: asyncio.run(serve_settings(
        settings, sockets=own_sockets(sockets, n), worker=n))))


def worker_sockets(port, host, count):
    """The listening sockets of each of ``count`` workers, bound before any is forked:
    a port already taken fails here, at start. On Linux each worker has its own on the
    one port (SO_REUSEPORT) and the kernel spreads new connections over them by hash;
    from one shared socket, the worker free first took every connection waiting (the
    tills of every branch coming back after an outage could all land on one). A plain bind
    first makes sure nobody holds the port, not even another cloud sharing it the same
    way, and chooses it when ``port`` is 0. A worker started in a killed one's place
    takes over its sockets, which this process keeps open: the connections waiting on
    them are not lost. Elsewhere every worker listens on the plain bind's sockets."""
    shared = tornado.netutil.bind_sockets(port, host)
    if not sys.platform.startswith("linux"):
        return [shared] * count
    port = shared[0].getsockname()[1]
    for sock in shared:
        sock.close()
    return [tornado.netutil.bind_sockets(port, host, reuse_port=True) for _ in range(count)]


def own_sockets(sockets, n):
    """Worker n's sockets of ``worker_sockets``; it closes its copies of the others', so
    that each is held by its worker and the first process only."""
    for other in sockets:
        if other is not sockets[n]:
            for sock in other:
                sock.close()
    return sockets[n]


_PR_SET_PDEATHSIG = 1


def run_workers(count, work, log=logging.getLogger("branchline.workers")):
    """Fork ``count`` processes running ``work(n)`` (n: the worker's number, from 0)
    and wait for them (in os.wait: no polling). One killed by a signal we did not
    send (kill -9, a crash) is replaced under its number; on SIGINT/SIGTERM every worker is told to stop, and once all have,
    this returns their exit status (a worker that exits by itself stops them all:
    it cannot start). A worker stops if this process dies."""
    children, stopping = {}, []

    def stop(signum, frame):
        stopping.append(signum)
        for pid in children:
            os.kill(pid, signal.SIGTERM)

    def spawn(n):
        pid = os.fork()
        if pid == 0:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL)
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
            code = 1
            try:
                work(n)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:     # noqa: BLE001 - logged; the parent sees the status
                log.exception("worker %d failed", n)
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = n
        log.info("worker %d: pid %d", n, pid)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    for n in range(count):
        spawn(n)
    status = 0
    while children:
        pid, code = os.wait()
        n = children.pop(pid)
        if stopping:
            continue
        if os.WIFSIGNALED(code):
            log.warning("worker %d (pid %d) killed by signal %d; starting another", n, pid,
                        os.WTERMSIG(code))
            spawn(n)
            continue
        status = os.waitstatus_to_exitcode(code) or 1
        log.error("worker %d (pid %d) exited with %d; stopping the others", n, pid, status)
        stop(signal.SIGTERM, None)
    return status
