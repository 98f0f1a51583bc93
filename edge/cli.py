"""The edge's commands besides serving: ``enroll``, ``sync status``, ``backup`` and
``restore`` (edge/backup.py)."""

import argparse
import json
import os
import shutil
import socket
import sqlite3
import sys
import time
import urllib.error
import urllib.request

from protocol import config, ed25519, tokens, wire
from protocol.clock import Clock
from protocol.node import data_paths
from sync import auth, enrollment, inbox, restored, state, status
from sync.startup import open_store

from . import backup as box


class CommandError(Exception):
    pass


def _call(url, method="GET", body=None, headers=None):
    data = wire.dumps_bytes(body) if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers=dict(headers or {}, Accept="application/json",
                                                  **({"Content-Type": "application/json"}
                                                     if data else {})))
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return wire.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read().decode("utf-8"))
        except ValueError:
            answer = {}
        errors = answer.get("errors") or {}
        message = next(iter(errors.values()), [answer.get("message", str(exc))])[0]
        raise CommandError("the cloud refused: %s" % message)
    except urllib.error.URLError as exc:
        raise CommandError("cannot reach the cloud at %s: %s" % (url, exc.reason))


def _progress(done, total, label):
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write("\r[%s%s] %3d%%  %-32s" % ("#" * filled, "-" * (width - filled),
                                               100 * done // max(total, 1), label[:32]))
    sys.stderr.flush()


def _save_key(keys_dir, node_id, key):
    path = os.path.join(keys_dir, "node-%d.key" % node_id)
    if not tokens.write_secret(path, ed25519.private_pem(key)):
        raise CommandError("%s already holds a key" % path)


def enroll(args):
    data_dir = os.path.abspath(args.data_dir)
    settings = config.load("edge", {"data_dir": data_dir}, environ={})
    paths = data_paths(settings)
    if enrollment.read(data_dir) or os.path.exists(paths["database"]):
        if not args.force:
            raise CommandError("%s already holds an edge; pass --force to replace it (its "
                               "files are kept aside)" % data_dir)
        aside = "%s.replaced-%d" % (data_dir, time.time())
        shutil.move(data_dir, aside)
        print("kept the previous edge's files in %s" % aside)
    os.makedirs(data_dir, exist_ok=True)

    cloud = args.cloud_url.rstrip("/")
    key = ed25519.generate()
    identity = _call(cloud + "/sync/enroll", "POST", {
        "code": args.code, "public_key": ed25519.public_pem(key).decode("ascii"),
        "name": args.name or socket.gethostname()})
    node_id = identity["node_id"]
    _save_key(paths["keys"], node_id, key)
    tokens.KeyRing.trust(paths["keys"], identity["cloud_node_id"],
                         identity["cloud_public_key"].encode())
    print("enrolled as node %d for branch %s; downloading its data" % (
        node_id, identity["branch_name"]))

    def signed(path):
        return _call(cloud + path, headers=auth.sign(key, node_id, "GET", path, b"",
                                                     now=time.time()))

    start = signed("/sync/snapshot")
    total = sum(t["rows"] for t in start["tables"]) or 1
    store = open_store(paths["database"], node_id)
    done = 0
    try:
        for entry in start["tables"]:
            after = 0
            while True:
                page = signed("/sync/snapshot?table=%s&after_id=%d" % (entry["table"], after))
                if not page["rows"]:
                    break
                store.call(inbox.apply_snapshot_rows, entry["table"], page["rows"])
                after = page["rows"][-1]["id"]
                done += len(page["rows"])
                _progress(done, total, entry["table"])
        store.call(state.put, state.CURSOR, start["cursor"])
    finally:
        store.close()
    _progress(total, total, "done")
    sys.stderr.write("\n")
    enrollment.write(data_dir, {
        "node_id": node_id, "branch_id": identity["branch_id"],
        "branch_name": identity["branch_name"], "restaurant_id": identity["restaurant_id"],
        "cloud_url": cloud, "enrolled_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    print("ready: start it with  branchline-edge --data-dir %s" % data_dir)


def sync_status(args):
    data_dir = os.path.abspath(args.data_dir)
    record = enrollment.read(data_dir)
    if record is None:
        raise CommandError("%s holds no enrolled edge" % data_dir)
    settings = config.load("edge", {"data_dir": data_dir}, environ={})
    store = open_store(data_paths(settings)["database"], record["node_id"])
    try:
        report = store.call(status.edge_status, Clock().now(), record["cloud_url"])
    finally:
        store.close()
    print(json.dumps(report, indent=2))


def backup(args):
    data_dir = os.path.abspath(args.data_dir)
    to = args.to or "edge-backup-%s.tar.gz" % time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    try:
        written, size = box.backup(data_dir, to)
    except (box.BackupError, OSError, sqlite3.Error) as exc:
        raise CommandError(str(exc))
    print("backed up %s to %s (%d bytes; it holds the box's private key)" % (
        data_dir, written, size))


def restore(args):
    """Put the box back from its archive, then leave room past the backup's change
    numbers and ids for what the lost box may have done after it (sync/restored.py)."""
    data_dir = os.path.abspath(args.data_dir)
    try:
        aside = box.restore(data_dir, args.source)
        record = enrollment.read(data_dir)
        if record is not None:
            settings = config.load("edge", {"data_dir": data_dir}, environ={})
            store = open_store(data_paths(settings)["database"], record["node_id"])
            try:
                store.call(restored.leave_room, Clock().now())
            finally:
                store.close()
    except (box.BackupError, OSError, sqlite3.Error) as exc:
        raise CommandError(str(exc))
    if aside:
        print("kept the files it replaced in %s" % aside)
    print("restored %s into %s: start the edge again (what the box sent the cloud after "
          "this backup stays at the cloud; the box numbers its changes and ids past it)"
          % (args.source, data_dir))


def main(argv):
    parser = argparse.ArgumentParser(prog="branchline-edge")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("enroll", help="enroll this box with the cloud, using a one-time "
                                           "code from head office, and download its branch")
    p.add_argument("--cloud-url", required=True, help="the cloud's base URL")
    p.add_argument("--code", required=True, help="the enrollment code head office gave you")
    p.add_argument("--data-dir", default=config.DEFAULTS["edge"]["data_dir"],
                   help="where the edge keeps its database and keys")
    p.add_argument("--name", default="", help="a name for this box (default: host name)")
    p.add_argument("--force", action="store_true",
                   help="replace an edge already in data-dir (its files are kept aside)")
    p.set_defaults(run=enroll)
    p = commands.add_parser("sync", help="sync commands")
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("status", help="outbox depth, last push and pull, dead letters")
    s.add_argument("--data-dir", default=config.DEFAULTS["edge"]["data_dir"])
    s.set_defaults(run=sync_status)
    p = commands.add_parser("backup", help="copy this box (database, enrollment, keys) into "
                                           "one archive while the edge runs")
    p.add_argument("--data-dir", default=config.DEFAULTS["edge"]["data_dir"])
    p.add_argument("--to", default="", help="the archive to write (default: "
                                            "edge-backup-<time>.tar.gz here)")
    p.set_defaults(run=backup)
    p = commands.add_parser("restore", help="put a box back from a backup (the edge "
                                            "stopped)")
    p.add_argument("--data-dir", default=config.DEFAULTS["edge"]["data_dir"])
    p.add_argument("--from", dest="source", required=True, help="the archive to restore")
    p.set_defaults(run=restore)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except CommandError as exc:
        sys.exit("branchline-edge %s: %s" % (args.command, exc))
