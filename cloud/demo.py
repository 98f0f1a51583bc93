"""Run the demo: a cloud node and two branch edges on this machine.

``branchline-demo`` seeds "Branchline Bistro" (see ``cloud.demo_data``) into the
cloud's database on first run, starts the cloud, enrolls each branch's edge
with it the way an installer does (a one-time code, ``branchline-edge enroll``,
which downloads the branch), starts the edges, which then sync with the cloud
and announce themselves on the LAN (``branchline-edge discover`` lists them), and
prints where they are and how to log in. The edges serve plain HTTP, so that curl
and the README's commands stay simple on 127.0.0.1; ``--tls`` makes them serve
HTTPS and WSS with their own certificates, as a real box does. Ctrl-C or SIGTERM
stops them all.

With ``--database-url`` the cloud runs on that (empty) PostgreSQL database, and
with ``--cloud-workers N`` as N processes behind its one port, sharing realtime
events through the Redis at ``--redis-url`` when given; the edges are unchanged.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from protocol import config, models, realtime
from protocol.ids import CLOUD_NODE_ID
from protocol.node import data_paths
from protocol.postgres_pool import open_database
from sync import enrollment
from sync.startup import open_store

from . import demo_data

STATE_FILE = "demo.json"
# Asked without a token, a node that is up answers 401 here without reading its
# database. (The API document, asked before, built every model of the API in the node
# just to say it was up: megabytes an edge then kept.)
READY_PATH = "/api/application-integration/pos/items"
READY_TIMEOUT = 30
STOP_TIMEOUT = 10

# label, role, node id, sub-directory, branch served (None: every branch)
NODES = [
    ("Cloud", "cloud", CLOUD_NODE_ID, "cloud", None),
    ("Downtown edge", "edge", 2, "downtown", "Downtown"),
    ("Airport edge", "edge", 3, "airport", "Airport"),
]
OWN_ENTRIES = {STATE_FILE} | {sub for _, _, _, sub, _ in NODES}


class Stopped(Exception):
    """SIGTERM arrived."""


class DemoError(Exception):
    pass


def parser():
    p = argparse.ArgumentParser(
        prog="branchline-demo",
        description="Run the Branchline demo: a cloud node and two branch edges (Downtown, "
                    "Airport) of the demo restaurant 'Branchline Bistro', on this machine. "
                    "The first run seeds the data; later runs reuse it. Ctrl-C stops everything.")
    p.add_argument("--data-dir", default="./demo-data", metavar="DIR",
                   help="where the three nodes keep their databases and keys "
                        "(DIR/cloud, DIR/downtown, DIR/airport; default %(default)s)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address the three servers listen on (0.0.0.0 to reach them from "
                        "other devices on the LAN; default %(default)s)")
    p.add_argument("--cloud-port", type=int, default=8800, metavar="PORT",
                   help="port of the cloud node (default %(default)s)")
    p.add_argument("--downtown-port", type=int, default=8700, metavar="PORT",
                   help="port of the Downtown branch's edge (default %(default)s)")
    p.add_argument("--airport-port", type=int, default=8701, metavar="PORT",
                   help="port of the Airport branch's edge (default %(default)s)")
    p.add_argument("--database-url", default="", metavar="URL",
                   help="run the cloud on this empty PostgreSQL database "
                        "(postgresql://user@host/name) instead of SQLite in DIR/cloud")
    p.add_argument("--cloud-workers", type=int, default=1, metavar="N",
                   help="cloud processes behind the cloud's port (more than 1 needs "
                        "--database-url; default %(default)s)")
    p.add_argument("--redis-url", default="", metavar="URL",
                   help="Redis the cloud's processes share realtime events through "
                        "(redis://127.0.0.1:6379/0): a client on any process hears every "
                        "event; without it, only those of its own process")
    p.add_argument("--tls", action="store_true",
                   help="the edges serve HTTPS and WSS with the certificate each makes on "
                        "first start (as a real box does; clients pin its fingerprint, shown "
                        "by 'branchline-edge discover'); default: plain HTTP")
    p.add_argument("--reset", action="store_true",
                   help="delete the demo's data in --data-dir and seed it anew "
                        "(orders, logins and keys made since are lost)")
    return p


# --- Setting up the data -----------------------------------------------------------

def settings_for(role, data_dir, node_id):
    # Only the paths are used, and they follow from role and data_dir alone.
    return config.load(role, {"data_dir": data_dir, "node_id": node_id}, environ={})


def wipe(data_dir):
    """Delete a previous demo in data_dir, refusing anything the demo did not make."""
    if not os.path.isdir(data_dir):
        return
    foreign = sorted(set(os.listdir(data_dir)) - OWN_ENTRIES)
    if foreign:
        raise DemoError("refusing to wipe %s: it holds files the demo did not make (%s). "
                        "Choose another --data-dir." % (data_dir, ", ".join(foreign[:5])))
    for entry in os.listdir(data_dir):
        path = os.path.join(data_dir, entry)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def _is_empty():
    """(Worker thread) Whether the demo restaurant is not in the database yet."""
    return not models.Restaurant.select().exists()


def set_up(data_dir, database_url=""):
    """Seed the cloud's database (SQLite in data_dir, or the empty PostgreSQL
    database at ``database_url``); answers the state. The edges are enrolled with
    the running cloud afterwards (``enroll_edges``), as a real branch's box is."""
    wipe(data_dir)
    cloud = data_paths(settings_for("cloud", os.path.join(data_dir, "cloud"), CLOUD_NODE_ID))
    os.makedirs(cloud["data_dir"], exist_ok=True)
    print("Seeding the demo restaurant into %s ..." % (database_url or cloud["database"]),
          flush=True)
    store = open_store(cloud["database"], CLOUD_NODE_ID,
                       db=open_database(database_url, cloud["database"]))
    try:
        if not store.call(_is_empty):
            raise DemoError("the database at %s already holds a restaurant: give the demo an "
                            "empty one (createdb ...)" % database_url)
        summary = store.call(demo_data.seed)
    finally:
        store.close()
    # The riders' login codes are kept here, demo data only, to be shown with the logins
    # (the database keeps them hashed).
    state = {"restaurant_id": summary["restaurant_id"], "branches": summary["branches"],
             "users": summary["users"], "rider_codes": summary["rider_codes"],
             "database_url": database_url}
    with open(os.path.join(data_dir, STATE_FILE), "w") as fh:
        json.dump(state, fh, indent=2)
    return state


def enroll_edges(data_dir, state, cloud_url):
    """Enroll every edge not enrolled yet with the running cloud: a one-time code
    from head office (``branchline-cloud enroll-code``), then the installer's one
    command on the box (``branchline-edge enroll``), which downloads its branch."""
    for label, role, _, sub, branch in NODES:
        edge_dir = os.path.join(data_dir, sub)
        if role != "edge" or enrollment.read(edge_dir) is not None:
            continue
        code = subprocess.run(
            [sys.executable, "-m", "cloud", "enroll-code", "--data-dir",
             os.path.join(data_dir, "cloud"), "--branch-id", str(state["branches"][branch]),
             "--database-url", state.get("database_url", "")],
            check=True, capture_output=True, text=True).stdout.split()[0]
        print("Enrolling the %s with code %s ..." % (label, code), flush=True)
        done = subprocess.run([sys.executable, "-m", "edge", "enroll", "--cloud-url", cloud_url,
                               "--code", code, "--data-dir", edge_dir, "--name", "demo-" + sub])
        if done.returncode != 0:
            raise DemoError("enrolling the %s failed" % label)


def load_state(data_dir, reset, database_url=""):
    path = os.path.join(data_dir, STATE_FILE)
    if reset or not os.path.exists(path):
        return set_up(data_dir, database_url)
    with open(path) as fh:
        state = json.load(fh)
    if state.get("database_url", "") != database_url:
        raise DemoError("the demo in %s runs its cloud on %s; start it with the same "
                        "--database-url, or use --reset or another --data-dir"
                        % (data_dir, state.get("database_url") or "SQLite"))
    return state


def realtime_keys(data_dir):
    """{label: the Pusher app key of that node} (made now if the node has none yet)."""
    keys = {}
    for label, role, node_id, sub, _ in NODES:
        settings = settings_for(role, os.path.join(data_dir, sub), node_id)
        keys[label] = realtime.credentials(settings, data_paths(settings)["keys"]).key
    return keys


# --- Running the nodes -------------------------------------------------------------

def node_commands(args, data_dir, state):
    """[(label, url, argv)] for the cloud and the two edges."""
    ports = {"cloud": args.cloud_port, "downtown": args.downtown_port,
             "airport": args.airport_port}
    reach = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    commands = []
    for label, role, node_id, sub, branch in NODES:
        # An edge's node id, branch and cloud come from its enrollment.
        argv = [sys.executable, "-m", role, "--data-dir", os.path.join(data_dir, sub),
                "--host", args.host, "--port", str(ports[sub]), "--node-name", "demo-" + sub,
                # a local Web Push service may be tried against the demo
                "--push-http-endpoints", "loopback"]
        if role == "cloud" and args.database_url:
            argv += ["--database-url", args.database_url, "--workers",
                     str(args.cloud_workers)]
        if role == "cloud" and args.redis_url:
            argv += ["--redis-url", args.redis_url]
        tls = role == "edge" and args.tls
        if role == "edge":
            argv += ["--plain-http", "false" if tls else "true"]
        commands.append((label, "%s://%s:%d" % ("https" if tls else "http", reach, ports[sub]),
                         argv))
    return commands


def check_port_free(host, port):
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise DemoError("cannot listen on %s port %d (%s); is another demo running? "
                            "Choose other ports with --cloud-port/--downtown-port/"
                            "--airport-port." % (host, port, exc.strerror))


def how_it_ended(child):
    code = child.returncode
    if code < 0:
        return "was killed by signal %d" % -code
    return "exited with code %d" % code


def wait_until_ready(label, url, child):
    # An edge with --tls serves its own new certificate: it is only asked whether it is up.
    context = ssl._create_unverified_context() if url.startswith("https") else None
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if child.poll() is not None:
            raise DemoError("%s %s while starting (see its output above)"
                            % (label, how_it_ended(child)))
        try:
            with urllib.request.urlopen(url + READY_PATH, timeout=2,
                                        context=context) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise DemoError("%s did not answer on %s within %d s" % (label, url, READY_TIMEOUT))
        time.sleep(0.2)


def stop_all(children):
    for _, child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for label, child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print("%s did not stop within %d s; killing it" % (label, STOP_TIMEOUT), flush=True)
            child.kill()
            child.wait()


def watch(children):
    """Wait (asleep, not polling) until a child exits; raises DemoError naming it."""
    labels = {child.pid: (label, child) for label, child in children}
    while True:
        pid, status = os.wait()
        if pid in labels:
            label, child = labels[pid]
            child.returncode = os.waitstatus_to_exitcode(status)
            raise DemoError("%s %s unexpectedly" % (label, how_it_ended(child)))


def print_welcome(commands, state, keys):
    print("\nBranchline demo is running.\n")
    for label, url, _ in commands:
        print("  %-14s %s" % (label, url))
    print("\nRealtime (Pusher protocol 7; pusher-js / Laravel Echo: key, wsHost, wsPort):\n")
    for label, url, _ in commands:
        print("  %-14s key %s  %s/app/%s" % (label, keys[label], url.replace("http", "ws", 1),
                                             keys[label]))
    print("\nThe edges announce themselves on the LAN; list them with:\n\n"
          "  branchline-edge discover\n")
    print("Logins (password %s):\n" % demo_data.DEMO_PASSWORD)
    for email, name, role, branches, _ in demo_data.USERS:
        print("  %-27s %-9s %s" % (email, role, ", ".join(branches)))
    codes = [(branch, name, code) for branch, riders in state.get("rider_codes", {}).items()
             for name, code in riders.items()]
    if codes:
        print("\nRider app logins (POST /partner/auth/login {\"unique_code\": CODE}):\n")
        for branch, name, code in codes:
            print("  %-27s %-9s %s" % (name, code, branch))
    edge_url = commands[1][1]
    print("\nA waiter logs in at the Downtown edge:\n\n"
          "  curl -s -X POST %s/api/application-integration/auth/login \\\n"
          "       -H 'Content-Type: application/json' \\\n"
          "       -d '{\"email\": \"waiter@demo.test\", \"password\": \"%s\"}'\n"
          % (edge_url, demo_data.DEMO_PASSWORD))
    print("Branch ids: %s. Press Ctrl-C to stop.\n"
          % ", ".join("%s %d" % item for item in state["branches"].items()), flush=True)


def _on_sigterm(signum, frame):
    raise Stopped()


def main(argv=None):
    args = parser().parse_args(argv)
    data_dir = os.path.abspath(args.data_dir)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGTERM, _on_sigterm)
    children = []
    try:
        if args.cloud_workers > 1 and not args.database_url:
            raise DemoError("--cloud-workers needs --database-url (PostgreSQL)")
        for port in (args.cloud_port, args.downtown_port, args.airport_port):
            check_port_free(args.host, port)   # before a --reset wipes a running demo's data
        state = load_state(data_dir, args.reset, args.database_url)
        commands = node_commands(args, data_dir, state)
        for n, (label, url, command) in enumerate(commands):
            if n == 1:      # the cloud is up: enroll the boxes that are not yet
                enroll_edges(data_dir, state, commands[0][1])
            # A session of their own: Ctrl-C reaches the demo, which stops them in order.
            children.append((label, subprocess.Popen(command, start_new_session=True)))
            wait_until_ready(label, url, children[-1][1])
        keys = realtime_keys(data_dir)
        print_welcome(commands, state, keys)
        watch(children)   # returns only by raising
    except (KeyboardInterrupt, Stopped):
        print("\nStopping the demo ...", flush=True)
        return 0
    except DemoError as exc:
        print("branchline-demo: %s" % exc, file=sys.stderr, flush=True)
        return 1
    finally:
        for sig in previous:    # a second Ctrl-C must not cut the stopping short
            signal.signal(sig, signal.SIG_IGN)
        stop_all(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
