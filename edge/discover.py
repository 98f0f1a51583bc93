"""Finding the edges on this LAN: ``branchline discover`` and ``branchline-edge discover``.

A ``Browser`` listens for ``_branchline._tcp.local.`` (edge/lan.py announces it) and
keeps ``edges``: each one's branch, restaurant, node, version, addresses, the URLs of
its API and WebSocket, and its certificate's fingerprints, read from its TXT record;
an edge that withdraws (it stopped) leaves ``edges``. The command lists what it hears
within a few seconds, or waits for an edge (``--wait``, ``--branch``), as a table or
as JSON (``--json``). It needs no edge installed on the machine it runs on.
"""

import argparse
import asyncio
import json
import sys

from zeroconf import IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from .lan import SERVICE_TYPE

LISTEN_SECONDS = 3.0          # without --wait: how long to listen before listing
SETTLE_SECONDS = 0.5          # after the edge waited for: others answering at once
RESOLVE_MS = 3000


def _text(properties, key):
    value = properties.get(key.encode())
    return value.decode("utf-8", "replace") if value is not None else None


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def describe(info):
    """What ``discover`` shows of one announced edge (a resolved AsyncServiceInfo)."""
    props = info.properties or {}
    tls = _text(props, "tls") == "1"
    api, ws = _text(props, "api") or "", _text(props, "ws") or ""
    addresses = info.parsed_scoped_addresses()
    hosts = ["[%s]" % a if ":" in a else a for a in addresses]
    return {
        "name": info.name[:-len(SERVICE_TYPE) - 1],
        "branch": _text(props, "branch"), "branch_id": _int(_text(props, "bid")),
        "restaurant": _text(props, "restaurant"),
        "restaurant_id": _int(_text(props, "rid")),
        "node_id": _int(_text(props, "node")), "version": _text(props, "version"),
        "host": (info.server or "").rstrip("."), "addresses": addresses, "port": info.port,
        "tls": tls, "tls_fingerprint": _text(props, "fp"), "tls_spki": _text(props, "spki"),
        "api_urls": ["%s://%s:%d%s" % ("https" if tls else "http", h, info.port, api)
                     for h in hosts],
        "ws_urls": ["%s://%s:%d%s" % ("wss" if tls else "ws", h, info.port, ws)
                    for h in hosts] if ws else [],
    }


class Browser:
    """The edges announced on the LAN, kept up to date while it runs (see the module)."""

    def __init__(self, interfaces=None):
        self.interfaces = interfaces
        self.edges = {}                    # instance name: describe(...)
        self.changed = asyncio.Event()
        self._tasks = set()
        self.zeroconf = self.browser = None

    async def __aenter__(self):
        kwargs = {"interfaces": self.interfaces} if self.interfaces else {}
        self.zeroconf = AsyncZeroconf(ip_version=IPVersion.V4Only, **kwargs)
        self.browser = AsyncServiceBrowser(self.zeroconf.zeroconf, [SERVICE_TYPE],
                                           handlers=[self._on_change])
        return self

    async def __aexit__(self, *exc):
        await self.browser.async_cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.zeroconf.async_close()

    def _on_change(self, zeroconf, service_type, name, state_change):
        if state_change is ServiceStateChange.Removed:
            self.edges.pop(name[:-len(SERVICE_TYPE) - 1], None)
            self._ring()
            return
        task = asyncio.ensure_future(self._resolve(name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, name):
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if await info.async_request(self.zeroconf.zeroconf, RESOLVE_MS):
            edge = describe(info)
            self.edges[edge["name"]] = edge
            self._ring()

    def _ring(self):
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait_for(self, test, timeout):
        """Wait up to ``timeout`` seconds until ``test(self.edges)`` holds; its result."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not test(self.edges):
            left = deadline - loop.time()
            if left <= 0:
                return False
            changed = self.changed
            try:
                await asyncio.wait_for(changed.wait(), left)
            except asyncio.TimeoutError:
                return test(self.edges)
        return True


def matches(edge, branch):
    """Whether an edge is the one asked for (its branch's name, instance name or id)."""
    if not branch:
        return True
    wanted = branch.casefold()
    return wanted in ((edge["branch"] or "").casefold(), edge["name"].casefold(),
                      str(edge["branch_id"]))


async def discover(*, wait=None, branch=None, interfaces=None):
    """The edges heard (those of ``branch`` only, when given): listening LISTEN_SECONDS,
    or, with ``wait``, until one is heard (then SETTLE_SECONDS more) or ``wait`` passes."""
    async with Browser(interfaces) as browser:
        if wait is None:
            await asyncio.sleep(LISTEN_SECONDS)
        elif await browser.wait_for(
                lambda edges: any(matches(e, branch) for e in edges.values()), wait):
            await asyncio.sleep(SETTLE_SECONDS)
        found = [e for e in browser.edges.values() if matches(e, branch)]
    return sorted(found, key=lambda e: (e["restaurant"] or "", e["branch"] or "", e["name"]))


def render(edges):
    """The table ``discover`` prints."""
    if not edges:
        return "no Branchline edge found on this network"
    lines = []
    for edge in edges:
        lines.append("%s  (%s, branch %s, node %s, version %s)" % (
            edge["name"], edge["restaurant"], edge["branch_id"], edge["node_id"],
            edge["version"]))
        for url in edge["api_urls"]:
            lines.append("  api  %s" % url)
        for url in edge["ws_urls"]:
            lines.append("  ws   %s" % url)
        lines.append("  tls  %s" % ("SHA-256 %s" % edge["tls_fingerprint"] if edge["tls"]
                                    else "off (plain HTTP)"))
    return "\n".join(lines)


def parser(prog):
    p = argparse.ArgumentParser(prog=prog, description="List the Branchline edges announced "
                                "on this LAN (mDNS/DNS-SD _branchline._tcp).")
    p.add_argument("--wait", type=float, metavar="SECONDS",
                   help="wait up to SECONDS for an edge (of --branch) to answer; exit 1 if "
                        "none does (default: listen %g s and list what answered)"
                        % LISTEN_SECONDS)
    p.add_argument("--branch", metavar="NAME", help="only this branch's edge (its branch "
                   "name, announced name or branch id)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--interface", action="append", metavar="ADDRESS", dest="interfaces",
                   help="listen on the interface with this address (repeatable; default "
                        "every interface)")
    return p


def run(prog, argv):
    args = parser(prog).parse_args(argv)
    edges = asyncio.run(discover(wait=args.wait, branch=args.branch,
                                 interfaces=args.interfaces))
    print(json.dumps(edges, indent=2) if args.json else render(edges), flush=True)
    return 0 if edges else 1


def edge_main(argv):
    """``branchline-edge discover ...`` (argv starts with "discover")."""
    sys.exit(run("branchline-edge discover", argv[1:]))


def main(argv=None):
    """``branchline discover ...``: the tools that need no edge on this machine."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "discover":
        sys.exit("usage: branchline discover [--wait SECONDS] [--branch NAME] [--json]\n"
                 "  lists the Branchline edges on this LAN ('branchline discover --help')")
    sys.exit(run("branchline discover", argv[1:]))
