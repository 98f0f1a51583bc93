"""The edge on the shop's LAN: its addresses, its TLS certificate, and its DNS-SD
announcement, so tablets find it without anyone typing an IP address.

``Lan`` is made before the server listens (it picks the addresses, makes or renews
the certificate: edge/tls.py, and gives the node its fingerprints) and is
started once it listens: one ``AsyncZeroconf`` for the process, on the interfaces
of the announced addresses, registers ``_branchline._tcp.local.`` (the API; TXT in
``txt``) and ``_http._tcp.local.`` (the status page) under the branch's name, which
zeroconf makes unique (``Downtown-2``) when another box holds it. ``stop`` withdraws
both (goodbye packets) and closes zeroconf.

Addresses that change: on Linux a netlink socket (RTMGRP_IPV4_IFADDR/IPV6_IFADDR)
wakes the event loop only when an address is added or removed, so an idle edge does
nothing; elsewhere the interfaces are compared every POLL_SECONDS (one getifaddrs
call). A change is re-announced SETTLE_SECONDS later (the certificate renewed with
the same key to name the new addresses), and ``on_change`` is called with the new
``report()`` (the edge records it and sends it to the cloud: sync/client.py).
Re-announcing withdraws the old announcement and opens zeroconf anew on the new
interfaces (one instance at a time). Configured addresses (``announce_addresses``,
or ``host`` when it is one address) are not watched.
"""

import asyncio
import ipaddress
import logging
import socket
import ssl

import ifaddr
import zeroconf
from zeroconf import IPVersion, ServiceInfo
from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

from protocol.node import data_paths
from protocol.routes import PREFIX
from protocol.version import VERSION

from . import tls

log = logging.getLogger("branchline.edge.lan")

SERVICE_TYPE = "_branchline._tcp.local."
HTTP_TYPE = "_http._tcp.local."
STATUS_PATH = "/sync/status"
TXT_MAX = 230                  # bytes of one TXT value (DESIGN.md, "Discovery")
NAME_MAX = 56                  # bytes of the instance name: a DNS label (63) with "-NN"
ASK_SECONDS = 1.5             # how long a new announcement listens for a box holding its name
SETTLE_SECONDS = 1.0           # after an address change, before re-announcing
POLL_SECONDS = 30.0            # without netlink: how often the interfaces are compared
RENEW_CHECK_SECONDS = 12 * 3600
ANY = ("0.0.0.0", "::", "")



def interface_addresses(ipv6=False):
    """The addresses of this machine's LAN interfaces (not loopback, not link-local),
    IPv4 first; loopback's when there is no LAN at all."""
    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not ip.is_IPv4 and not ipv6:
                continue
            address = ipaddress.ip_address(ip.ip if ip.is_IPv4 else ip.ip[0])
            if address.is_loopback or address.is_link_local or address.is_multicast:
                continue
            found.append(address)
    found = sorted(set(found), key=lambda a: (a.version, a))
    return [str(a) for a in found] or ["127.0.0.1"]


def configured_addresses(settings):
    """The addresses settings fix (``announce_addresses``, else ``host`` when it is one
    address), or None when they are the interfaces'."""
    listed = [a.strip() for a in settings.announce_addresses.split(",") if a.strip()]
    for address in listed:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise SystemExit("announce_addresses: %r is not an IP address" % address)
    if listed:
        return listed
    if settings.host not in ANY:
        return [settings.host]
    return None


def host_label():
    """This machine's name as one DNS label (what ``<label>.local`` resolves)."""
    label = socket.gethostname().split(".")[0]
    label = "".join(c if c.isalnum() or c == "-" else "-" for c in label).strip("-")
    return label[:63] or "branchline-edge"


def _value(text, limit=TXT_MAX):
    """A TXT value within TXT_MAX bytes (cut on a character boundary)."""
    return str(text).encode("utf-8")[:limit].decode("utf-8", "ignore")



class Lan:
    """The edge's addresses, certificate and announcement (see the module's text)."""

    def __init__(self, node, *, restaurant, on_change=None):
        self.node = node
        self.settings = node.settings
        self.restaurant = restaurant          # {"id", "name"} of the branch's restaurant
        self.on_change = on_change
        self.fixed = configured_addresses(self.settings)
        self.addresses = self.fixed or interface_addresses(
            ipv6=self.settings.host == "::")
        self.hostname = host_label()
        self.name = _value(self.settings.announce_name or node.branch_name or self.hostname,
                           NAME_MAX)
        self.certificate = None
        self.ssl_context = None
        self.zeroconf = None
        self.infos = []
        self._task = None
        self._watch = None
        self._timers = []
        self._renewing = None
        self._stopping = False
        if self.settings.tls:
            try:
                self._use(*self._ensure_certificate())
                self.ssl_context = tls.server_context(self.certificate)
            except (tls.CertificateError, ssl.SSLError, OSError) as exc:
                raise SystemExit("TLS certificate: %s" % exc) from None

    # --- The certificate -----------------------------------------------------------

    def _ensure_certificate(self):
        """(certificate, why it was made now or None), from edge/tls.py's process."""
        names = [self.hostname, self.hostname + ".local", "localhost"]
        return tls.ensure(self.settings, data_paths(self.settings)["keys"], names=names,
                          addresses=self.addresses + ["127.0.0.1"], now=self.node.clock.now())

    def _use(self, cert, reason):
        if reason:
            log.info("TLS certificate [%s] made (%s): SHA-256 %s", self.node.branch_name,
                     reason, cert.fingerprint)
        if self.ssl_context is not None and cert != self.certificate:
            tls.load(self.ssl_context, cert)       # new connections get it
        self.certificate = cert
        self.node.tls_fingerprint, self.node.tls_spki = cert.fingerprint, cert.spki

    def _renew_check(self):
        self._renew(moved=False)
        self._timers.append(asyncio.get_running_loop().call_later(
            RENEW_CHECK_SECONDS, self._renew_check))

    def _renew(self, moved):
        """Renew the certificate when due (off the event loop), then announce and report
        anew when it changed or ``moved`` (the addresses did)."""
        if self._stopping:
            return
        previous = self._renewing
        self._renewing = asyncio.ensure_future(self._renewed(previous, moved))

    async def _renewed(self, previous, moved):
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        before = self.certificate
        try:
            self._use(*await asyncio.to_thread(self._ensure_certificate))
        except Exception:
            # The certificate served stays; the next check (or address change) tries again.
            log.exception("could not renew the TLS certificate of [%s]",
                          self.node.branch_name)
        finally:
            if moved or self.certificate != before:
                self._moved()             # a new fingerprint or address to announce and report

    # --- What is announced ---------------------------------------------------------

    def txt(self):
        """The TXT record of ``_branchline._tcp``: every value within TXT_MAX bytes."""
        node = self.node
        values = {
            "api": PREFIX, "ws": "/app/%s" % node.hub.credentials.key,
            "rid": self.restaurant["id"], "bid": node.branch_id,
            "restaurant": self.restaurant["name"], "branch": node.branch_name,
            "node": node.node_id, "version": VERSION, "tls": "1" if self.settings.tls else "0",
        }
        if self.certificate is not None:
            values["fp"], values["spki"] = self.certificate.fingerprint, self.certificate.spki
        return {key: _value(value) for key, value in values.items()}

    def report(self):
        """Where this edge is, as it announces it (recorded here, sent to the cloud)."""
        return {"name": self.service_name(), "host": self.hostname + ".local",
                "addresses": list(self.addresses), "port": self.settings.port,
                "api": PREFIX, "ws": "/app/%s" % self.node.hub.credentials.key,
                "tls": self.settings.tls, "fingerprint": self.node.tls_fingerprint or None,
                "spki": self.node.tls_spki or None, "version": VERSION}

    def service_name(self):
        """The instance name as registered (after any renaming on conflict)."""
        if self.infos:
            return self.infos[0].name[:-len(SERVICE_TYPE) - 1]
        return self.name

    def _infos(self):
        packed = [socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET,
                                   a.split("%")[0]) for a in self.addresses]
        server = self.hostname + ".local."
        port = self.settings.port
        api = ServiceInfo(SERVICE_TYPE, "%s.%s" % (self.name, SERVICE_TYPE), port=port,
                          addresses=packed, properties=self.txt(), server=server)
        status = ServiceInfo(HTTP_TYPE, "%s.%s" % (self.name, HTTP_TYPE), port=port,
                             addresses=packed, server=server, properties={
                                 "path": STATUS_PATH, "branch": _value(self.node.branch_name),
                                 "tls": "1" if self.settings.tls else "0"})
        return [api, status]

    # --- Running -------------------------------------------------------------------

    def start(self):
        """Announce (in the background: probing for a unique name takes a second or two)
        and watch the addresses."""
        if self.settings.tls and self.certificate.generated:
            self._timers.append(asyncio.get_running_loop().call_later(
                RENEW_CHECK_SECONDS, self._renew_check))
        if self.settings.announce:
            self._task = asyncio.ensure_future(self._announce())
        else:
            self._changed()
        if self.fixed is None:
            self._watch = AddressWatch(self._recheck)

    async def _announce(self):
        interfaces = [a for a in self.addresses if ":" not in a] or ["127.0.0.1"]
        try:
            self.zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
            self.infos = self._infos()
            await self._ask_who_holds_the_name()
            for info in self.infos:
                await self.zeroconf.async_register_service(info, allow_name_change=True)
        except (OSError, ValueError, zeroconf.Error):
            # An interface that went away meanwhile: the next change announces again.
            log.exception("could not announce [%s] on %s", self.node.branch_name,
                          ", ".join(self.addresses))
            return
        # Keep the name zeroconf settled on: a re-announcement keeps it.
        self.name = self.service_name()
        log.info("announced [%s] as %r on %s", self.node.branch_name, self.name,
                 ", ".join(self.addresses))
        self._changed()

    async def _ask_who_holds_the_name(self):
        """zeroconf's probe finds a name taken only among the instances in its cache, and
        a box that announced itself before this one started is in it only once asked:
        browse the types first, until the holder of our names has answered for each
        (within about a second) or ASK_SECONDS pass with nobody holding them."""
        unheard = {info.name for info in self.infos}
        held = asyncio.Event()

        def heard(zeroconf, service_type, name, state_change):
            unheard.discard(name)
            if not unheard:
                held.set()
        browsers = [AsyncServiceBrowser(self.zeroconf.zeroconf, kind, handlers=[heard])
                    for kind in sorted({info.type for info in self.infos})]
        try:
            await asyncio.wait_for(held.wait(), ASK_SECONDS)
        except asyncio.TimeoutError:
            pass
        finally:
            for browser in browsers:
                await browser.async_cancel()

    async def _close_zeroconf(self):
        """Withdraw what is announced (goodbye packets) and close zeroconf."""
        if self.zeroconf is not None:
            instance, self.zeroconf, self.infos = self.zeroconf, None, []
            try:
                await instance.async_unregister_all_services()
            finally:
                await instance.async_close()

    async def _withdraw(self):
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._close_zeroconf()

    def _changed(self):
        if self.on_change is not None:
            self.on_change(self.report())

    def _recheck(self):
        addresses = interface_addresses(ipv6=self.settings.host == "::")
        if addresses == self.addresses:
            return
        log.info("addresses of [%s] changed: %s -> %s", self.node.branch_name,
                 ", ".join(self.addresses), ", ".join(addresses))
        self.addresses = addresses
        if self.settings.tls:
            self._renew(moved=True)       # the certificate names the new addresses
        else:
            self._moved()

    def _moved(self):
        """Announce and report anew: the addresses or the certificate changed."""
        if self._stopping:
            return
        if self.settings.announce:
            self._task = asyncio.ensure_future(self._reannounce(self._task))
        else:
            self._changed()

    async def _reannounce(self, previous):
        """Announce anew on the new addresses, under the name settled on before."""
        if previous is not None:
            previous.cancel()
            await asyncio.gather(previous, return_exceptions=True)
        await self._close_zeroconf()
        await self._announce()

    async def stop(self):
        self._stopping = True           # no renewal nor announcement starts from now on
        for timer in self._timers:
            timer.cancel()
        if self._watch is not None:
            self._watch.close()
        if self._renewing is not None:
            self._renewing.cancel()
            await asyncio.gather(self._renewing, return_exceptions=True)
        await self._withdraw()


class AddressWatch:
    """Calls ``changed()`` SETTLE_SECONDS after the machine's addresses change: woken by
    netlink on Linux (no timer at all), else comparing every POLL_SECONDS."""

    RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR = 0x10, 0x100

    def __init__(self, changed):
        self.changed = changed
        self.loop = asyncio.get_running_loop()
        self._pending = None
        self.sock = None
        try:
            self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK,
                                      socket.NETLINK_ROUTE)
            self.sock.bind((0, self.RTMGRP_IPV4_IFADDR | self.RTMGRP_IPV6_IFADDR))
        except (AttributeError, OSError):
            if self.sock is not None:
                self.sock.close()
            self.sock = None
        if self.sock is not None:
            self.loop.add_reader(self.sock.fileno(), self._readable)
        else:
            self._pending = self.loop.call_later(POLL_SECONDS, self._poll)

    def _readable(self):
        try:
            while self.sock.recv(65536):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:           # e.g. ENOBUFS after a burst: look anyway
            pass
        if self._pending is None:
            self._pending = self.loop.call_later(SETTLE_SECONDS, self._settled)

    def _settled(self):
        self._pending = None
        self.changed()

    def _poll(self):
        self.changed()
        self._pending = self.loop.call_later(POLL_SECONDS, self._poll)

    def close(self):
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if self.sock is not None:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
