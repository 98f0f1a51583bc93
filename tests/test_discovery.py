"""Tablets find the edge by themselves: real python-zeroconf on this machine's loopback,
real HTTPS and WSS with the edge's own certificate, pinned by its fingerprint.

Every test announces its edges under names of its own (a random suffix), so runs in
parallel on the same machine do not see each other's edges as theirs.
"""

import asyncio
import datetime
import http.client
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.parse
import uuid

import pytest
from cryptography import x509
from zeroconf.asyncio import AsyncServiceInfo

from edge import discover, lan, tls
from edge.lan import HTTP_TYPE, SERVICE_TYPE
from protocol.version import VERSION
from protocol import config, locations, models
from protocol.clock import FakeClock
from protocol.routes import PREFIX
from test_realtime import NODE_DIR, node_clients  # noqa: F401,F811 - the fixture
from test_sync import D, enroll_box, eventually, new_code

FOUND = 20.0           # seconds within which an announced edge must be heard


def unique(label):
    return "%s %s" % (label, uuid.uuid4().hex[:8])


async def heard(browser, name, timeout=FOUND):
    assert await browser.wait_for(lambda edges: name in edges, timeout), (
        "%r was not heard; heard %s" % (name, sorted(browser.edges)))
    return browser.edges[name]


async def announced(server):
    """Wait until the edge's announcement is registered (its name settled)."""
    await eventually(lambda: server.lan._task is not None and server.lan._task.done(), FOUND)
    assert server.lan._task.exception() is None
    return server.lan.service_name()


async def cli(*args, timeout=60):
    """Run the installed ``branchline-edge`` console script; (exit code, stdout)."""
    script = os.path.join(os.path.dirname(sys.executable), "branchline-edge")
    proc = await asyncio.create_subprocess_exec(
        script, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


def pinned_get(url, pin, headers=None):
    """GET over HTTPS trusting only a certificate whose SHA-256 is ``pin`` (what an app
    that pins does); raises ssl.SSLError before sending anything when it is another."""
    parts = urllib.parse.urlsplit(url)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=context, timeout=10)
    try:
        conn.connect()
        seen = tls.fingerprint(conn.sock.getpeercert(binary_form=True))
        if seen != pin:
            raise ssl.SSLError("certificate %s is not the pinned %s" % (seen, pin))
        conn.request("GET", parts.path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


async def test_an_edge_is_found_with_its_txt_and_gone_after_shutdown(start_node, demo):
    name = unique("Downtown")
    async with discover.Browser(["127.0.0.1"]) as browser:
        edge = await start_node("edge", D, lan=True, plain_http=False, announce_name=name)
        found = await heard(browser, name)
        node = edge.node
        assert found["branch"] == D and found["branch_id"] == demo["branches"][D]
        assert found["restaurant_id"] == node.store.call(
            lambda: models.Branch.get_by_id(node.branch_id).restaurant_id)
        assert found["restaurant"] and found["node_id"] == node.node_id
        assert found["version"] == VERSION and found["tls"] is True
        assert found["tls_fingerprint"] == node.tls_fingerprint and len(
            found["tls_fingerprint"]) == 95
        assert found["tls_spki"] == node.tls_spki
        assert found["addresses"] == ["127.0.0.1"] and found["port"] == edge.port
        assert found["api_urls"] == ["https://127.0.0.1:%d%s" % (edge.port, PREFIX)]
        assert found["ws_urls"] == ["wss://127.0.0.1:%d/app/%s" % (
            edge.port, node.hub.credentials.key)]
        # The status page is announced for a manager's laptop (_http._tcp).
        page = AsyncServiceInfo(HTTP_TYPE, "%s.%s" % (name, HTTP_TYPE))
        assert await page.async_request(browser.zeroconf.zeroconf, 3000)
        assert page.port == edge.port and page.properties[b"path"] == b"/sync/status"
        assert page.properties[b"tls"] == b"1"
        # The API URL it advertises answers, with the advertised certificate.
        status, body = await asyncio.to_thread(
            pinned_get, found["api_urls"][0] + "/openapi.json", found["tls_fingerprint"])
        assert status == 200 and body["openapi"].startswith("3.")

        # The command finds it too, and prints what an installer needs.
        code, out, err = await cli("discover", "--wait", str(FOUND), "--branch", name, "--json")
        assert code == 0, err
        listed = json.loads(out)
        assert [e["name"] for e in listed] == [name]
        assert listed[0]["tls_fingerprint"] == node.tls_fingerprint
        code, out, err = await cli("discover", "--wait", str(FOUND), "--branch", name)
        assert code == 0, err
        assert out.startswith(name) and node.tls_fingerprint in out
        assert "https://127.0.0.1:%d%s" % (edge.port, PREFIX) in out

        await edge.close()            # withdraws: goodbye packets
        assert await browser.wait_for(lambda edges: name not in edges, 10), browser.edges
    code, out, _ = await cli("discover", "--wait", "2", "--branch", name)
    assert code == 1 and "no Branchline edge found" in out


async def test_two_branches_are_told_apart(start_node, demo):
    names = {D: unique(D), "Airport": unique("Airport")}
    async with discover.Browser(["127.0.0.1"]) as browser:
        edges = {b: await start_node("edge", b, lan=True, announce_name=n)
                 for b, n in names.items()}
        for branch, name in names.items():
            found = await heard(browser, name)
            assert found["branch"] == branch
            assert found["branch_id"] == demo["branches"][branch]
            assert found["node_id"] == edges[branch].node.node_id
            assert found["port"] == edges[branch].port and found["tls"] is False
            assert found["api_urls"] == ["http://127.0.0.1:%d%s" % (edges[branch].port, PREFIX)]
    only = await discover.discover(wait=FOUND, branch=names["Airport"], interfaces=["127.0.0.1"])
    assert [e["branch"] for e in only] == ["Airport"]


async def test_a_name_taken_on_the_lan_is_made_unique(start_node):
    name = unique("Shared")
    first = await start_node("edge", D, lan=True, announce_name=name)
    assert await announced(first) == name
    second = await start_node("edge", "Airport", lan=True, announce_name=name)
    renamed = await announced(second)
    assert renamed == name + "-2"
    async with discover.Browser(["127.0.0.1"]) as browser:
        assert (await heard(browser, name))["branch"] == D
        assert (await heard(browser, renamed))["branch"] == "Airport"
    # The edge records the name it settled on (and the cloud gets it: see below).
    location = second.node.store.call(lambda: models.EdgeLocation.get_by_id(
        second.node.node_id))
    assert location.name == renamed


async def test_https_and_wss_pinned_to_the_advertised_certificate(start_node, node_clients):
    name = unique(D)
    edge = await start_node("edge", D, lan=True, plain_http=False, announce_name=name)
    other = await start_node("edge", "Airport", plain_http=False)     # its own certificate
    assert other.node.tls_fingerprint != edge.node.tls_fingerprint
    async with discover.Browser(["127.0.0.1"]) as browser:
        pin = (await heard(browser, name))["tls_fingerprint"]
    token = await edge.login("waiter@demo.test")
    status, body = await asyncio.to_thread(
        pinned_get, edge.api + "/pusher/broadcast-settings", pin,
        {"Authorization": "Bearer " + token})
    assert status == 200
    settings = body["data"]
    assert settings["force_tls"] is True and settings["tls_fingerprint"] == pin
    assert (settings["ws_host"], settings["ws_port"]) == ("127.0.0.1", edge.port)
    assert settings["auth_endpoint"] == "https://127.0.0.1:%d/broadcasting/auth" % edge.port
    with pytest.raises(ssl.SSLError, match="not the pinned"):
        await asyncio.to_thread(pinned_get, other.api + "/openapi.json", pin)

    # pusher-js over WSS, trusting the pinned certificate only.
    result = await node_script(edge.url, pin)
    assert result.get("error") is None, result
    assert result["force_tls"] is True and result["settings_fingerprint"] == pin
    assert result["title"] == "Pinned" and result["socket_id"]
    assert result["transport"].startswith("wss://127.0.0.1:%d/app/" % edge.port), result
    refused = await node_script(other.url, pin)
    assert "does not match the pin" in refused["error"]


async def node_script(base, pin):
    proc = await asyncio.create_subprocess_exec(
        shutil.which("node") or "node", "pinned.mjs", json.dumps({"base": base, "pin": pin}),
        cwd=NODE_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    lines = out.decode().strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"error": "no output: " + err.decode()[-2000:]}
    assert (proc.returncode == 0) == ("error" not in result), (result, err.decode()[-2000:])
    return result


async def test_settings_answer_the_address_the_client_reached(start_node):
    edge = await start_node("edge", D, plain_http=False)
    token = await edge.login("waiter@demo.test")
    for host in ("localhost:%d" % edge.port, "192.0.2.77:%d" % edge.port, "[fd00::77]:8443"):
        for path in ("/pusher/broadcast-settings", "/pusher/settings"):
            resp = await edge.fetch("GET", path, token=token, headers={"Host": host})
            assert resp.status == 200, resp
            data = resp.body["data"]
            parts = urllib.parse.urlsplit("//" + host)
            assert (data["ws_host"], data["ws_port"]) == (parts.hostname, parts.port)
            assert data["force_tls"] is True
            assert data["tls_fingerprint"] == edge.node.tls_fingerprint
            assert data["auth_endpoint"].startswith("https://%s/" % host)
    # A Host that names no address: the address of the socket the client reached.
    for host in ("a:b:c", "[::1", "x:99999"):
        resp = await edge.fetch("GET", "/pusher/broadcast-settings", token=token,
                                headers={"Host": host})
        assert resp.status == 200, resp
        assert (resp.body["data"]["ws_host"], resp.body["data"]["ws_port"]) == (
            "127.0.0.1", edge.port)


def test_the_certificate_is_renewed_with_the_same_key(tmp_path):
    settings = config.load("edge", {"data_dir": str(tmp_path)}, environ={})
    now = datetime.datetime(2026, 1, 1)
    names, addresses = ["box", "box.local"], ["192.0.2.10"]
    made, why = tls.ensure(settings, str(tmp_path), names=names, addresses=addresses,
                           now=now)
    assert why == "none yet" and made.generated
    again, why = tls.ensure(settings, str(tmp_path), names=names, addresses=addresses,
                            now=now + datetime.timedelta(days=300))
    assert why is None and again == made                      # not yet due
    renewed, why = tls.ensure(settings, str(tmp_path), names=names, addresses=addresses,
                              now=now + datetime.timedelta(days=380))
    assert why.startswith("expires on") and renewed.not_after > made.not_after
    assert renewed.fingerprint != made.fingerprint and renewed.spki == made.spki
    moved, why = tls.ensure(settings, str(tmp_path), names=names, addresses=["192.0.2.11"],
                            now=now + datetime.timedelta(days=381))
    assert why == "names changed" and moved.spki == made.spki


async def test_a_running_edge_renews_its_certificate_and_announces_it(start_node):
    days = 86400
    clock = FakeClock(start=time.time() - 380 * days)    # made 380 days ago: nearly expired
    name = unique(D)
    edge = await start_node("edge", D, lan=True, plain_http=False, announce_name=name,
                            clock=clock)
    await announced(edge)
    first, key = edge.node.tls_fingerprint, edge.node.tls_spki
    clock.advance(380 * days)
    edge.lan._renew_check()                               # what its twice-daily timer runs
    await edge.lan._renewing                              # made off the event loop
    renewed = edge.node.tls_fingerprint
    assert renewed != first and edge.node.tls_spki == key
    async with discover.Browser(["127.0.0.1"]) as browser:
        assert await browser.wait_for(lambda edges: edges.get(name, {}).get(
            "tls_fingerprint") == renewed, FOUND), browser.edges
    status, _ = await asyncio.to_thread(pinned_get, edge.api + "/openapi.json", renewed)
    assert status == 200                                  # new connections get it
    with pytest.raises(ssl.SSLError, match="not the pinned"):
        await asyncio.to_thread(pinned_get, edge.api + "/openapi.json", first)


async def test_new_addresses_are_named_by_a_certificate_made_beside_the_event_loop(
        start_node, monkeypatch):
    """A box moved to another network: once its addresses settle, the certificate is
    renewed with the same key to name the new one (made by edge/certificate.py in a
    process of its own while the edge goes on serving), new connections get it, and
    the edge records where it now is with the new fingerprint."""
    edge = await start_node("edge", D, lan=True, plain_http=False, announce=False)
    first, key = edge.node.tls_fingerprint, edge.node.tls_spki
    moved_to = "192.0.2.77"
    monkeypatch.setattr(lan, "interface_addresses", lambda ipv6=False: [moved_to])
    edge.lan._recheck()                             # what the address watch runs
    await edge.lan._renewing
    assert edge.node.tls_fingerprint != first and edge.node.tls_spki == key
    with open(edge.lan.certificate.cert_path, "rb") as fh:
        names = x509.load_pem_x509_certificate(fh.read()).extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.IPAddress)
    assert ipaddress.ip_address(moved_to) in names
    status, _ = await asyncio.to_thread(pinned_get, edge.api + "/openapi.json",
                                        edge.node.tls_fingerprint)
    assert status == 200                            # new connections get it

    def recorded():
        where = edge.node.store.call(locations.where_is, edge.node.branch_id)
        return where["tls_fingerprint"] == edge.node.tls_fingerprint and where
    where = await eventually(recorded, 10)
    assert where["addresses"] == [moved_to]


async def test_a_configured_certificate_that_cannot_be_read_stops_the_edge_with_why(
        start_node, tmp_path):
    missing = str(tmp_path / "nowhere.pem")
    with pytest.raises(SystemExit, match="TLS certificate: .*No such file.*nowhere.pem"):
        await start_node("edge", D, plain_http=False, tls_cert=missing, tls_key=missing)
    with pytest.raises(SystemExit, match="TLS certificate: tls_cert is set but tls_key"):
        await start_node("edge", D, name="edge-no-key", plain_http=False, tls_cert=missing)


async def test_a_long_name_is_cut_to_fit_a_dns_label(start_node):
    name = unique("Zweigstelle Flughafen Südterminal Ankunftsebene") * 2
    edge = await start_node("edge", D, lan=True, announce_name=name)
    settled = await announced(edge)
    assert len(settled.encode()) <= lan.NAME_MAX and name.startswith(settled)
    async with discover.Browser(["127.0.0.1"]) as browser:
        assert (await heard(browser, settled))["branch"] == D


def test_configured_addresses_must_be_addresses(tmp_path):
    settings = config.load("edge", {"data_dir": str(tmp_path), "plain_http": True,
                                    "announce_addresses": "192.0.2.9, 192.0.2.10"},
                           environ={})
    assert lan.configured_addresses(settings) == ["192.0.2.9", "192.0.2.10"]
    with pytest.raises(SystemExit, match="not an IP address"):
        lan.configured_addresses(config.load("edge", {"announce_addresses": "box.local"},
                                             environ={}))


async def test_the_cloud_gives_an_app_where_its_edge_is(start_node, tmp_path, demo):
    cloud = await start_node("cloud")
    await enroll_box(cloud, tmp_path, "box", new_code(cloud, demo["branches"][D]))
    token = await cloud.login("waiter@demo.test")
    before = await cloud.fetch("GET", "/platform/edge", token=token)
    assert before.status == 404 and before.body["success"] is False
    name = unique(D)
    edge = await start_node("edge", name="box", sync=True, lan=True, plain_http=False,
                            announce_name=name)
    await announced(edge)

    async def known():
        resp = await cloud.fetch("GET", "/platform/edge", token=token)
        return resp if resp.status == 200 else None
    resp = await eventually(known, 15)
    data = resp.body["data"]
    assert data["node_id"] == edge.node.node_id and data["branch_id"] == demo["branches"][D]
    assert data["name"] == name and data["addresses"] == ["127.0.0.1"]
    assert data["tls"] is True and data["tls_fingerprint"] == edge.node.tls_fingerprint
    assert data["tls_spki"] == edge.node.tls_spki and data["version"] == VERSION
    assert data["api_urls"] == ["https://127.0.0.1:%d%s" % (edge.port, PREFIX)]
    assert data["ws_urls"] == ["wss://127.0.0.1:%d/app/%s" % (
        edge.port, edge.node.hub.credentials.key)]
    # The edge answers the same about itself; another branch's app learns nothing of it.
    at_edge = await edge.fetch("GET", "/platform/edge", token=await edge.login("waiter@demo.test"))
    assert at_edge.status == 200 and at_edge.body["data"]["addresses"] == ["127.0.0.1"]
    airport = await cloud.login("airport.waiter@demo.test")
    assert (await cloud.fetch("GET", "/platform/edge", token=airport)).status == 404
    assert SERVICE_TYPE == "_branchline._tcp.local."


ADDED = "198.51.100.7"      # TEST-NET-2: put on lo for a moment, taken off again


def ip(*args):
    return subprocess.run(["ip", *args], capture_output=True, text=True)


async def test_an_announced_edge_at_rest_runs_nothing(start_node):
    edge = await start_node("edge", D, lan=True, host="0.0.0.0", plain_http=False,
                            announce_name=unique(D))
    await announced(edge)
    await asyncio.sleep(0.5)                   # the location it recorded at start
    # Netlink wakes the edge when an address changes: no timer of ours but the
    # certificate's twice-daily check, and no store job.
    watch = edge.lan._watch
    assert watch.sock is not None and watch._pending is None
    assert [t.when() - asyncio.get_running_loop().time() > 3600 for t in edge.lan._timers] == [
        True]
    jobs = edge.node.store.jobs_run
    await asyncio.sleep(6)
    assert edge.node.store.jobs_run == jobs and watch._pending is None


async def test_a_new_address_is_announced_within_seconds(start_node):
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("adding an address to see it announced needs root and iproute2")
    name = unique(D)
    edge = await start_node("edge", D, lan=True, host="0.0.0.0", announce_name=name)
    await announced(edge)
    assert ADDED not in edge.lan.addresses
    added = ip("addr", "add", ADDED + "/32", "dev", "lo")
    if added.returncode:
        pytest.skip("cannot add an address here: %s" % added.stderr.strip())
    try:
        async with discover.Browser([ADDED]) as browser:
            assert await browser.wait_for(lambda edges: ADDED in edges.get(name, {}).get(
                "addresses", ()), 10), browser.edges
            assert browser.edges[name]["port"] == edge.port
        await eventually(lambda: ADDED in edge.node.store.call(
            lambda: models.EdgeLocation.get_by_id(edge.node.node_id)).addresses, 10)
    finally:
        ip("addr", "del", ADDED + "/32", "dev", "lo")
    await eventually(lambda: ADDED not in edge.lan.addresses, 10)
    assert await announced(edge) == name          # the same name, re-announced
