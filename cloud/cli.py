"""The cloud's commands besides serving: ``enroll-code``, ``vapid-public-key``, ``restored``."""

import argparse
import os
import sys

from protocol import config, ids
from protocol.clock import Clock
from protocol.node import data_paths
from protocol.postgres_pool import open_node_database
from sync import enrollment, restored
from sync.startup import open_store

from . import webpush


def enroll_code(args):
    store = _store(args)
    try:
        code = store.call(enrollment.create_code, args.branch_id, Clock().now(),
                          args.ttl_minutes)
    except ValueError as exc:
        sys.exit("branchline-cloud enroll-code: %s" % exc)
    finally:
        store.close()
    print(code)
    print("one-time code for branch %d, valid %d minutes; on the box run:\n"
          "  branchline-edge enroll --cloud-url <this cloud's URL> --code %s"
          % (args.branch_id, args.ttl_minutes, code), file=sys.stderr)


def _store(args):
    settings = config.load("cloud", {"data_dir": os.path.abspath(args.data_dir),
                                     "database_url": args.database_url}, environ={})
    return open_store(data_paths(settings)["database"], ids.CLOUD_NODE_ID,
                      db=open_node_database(settings))


def leave_room(args):
    """After restoring an older dump, before the cloud serves: hand out no id the
    cloud may have used after the dump (sync/restored.py)."""
    store = _store(args)
    try:
        _, last_id = store.call(restored.leave_room, Clock().now())
    finally:
        store.close()
    print("ids up to %d reserved: start the cloud" % last_id)


def vapid_public_key(args):
    """Print the cloud's VAPID public key (made on first use, as the server would)."""
    settings = config.load("cloud", {"data_dir": os.path.abspath(args.data_dir)}, environ={})
    print(webpush.public_key(webpush.load_keys(data_paths(settings)["keys"])))


def _where_its_data_is(p):
    p.add_argument("--data-dir", default=config.DEFAULTS["cloud"]["data_dir"],
                   help="the cloud's data directory")
    p.add_argument("--database-url", default=os.environ.get("BRANCHLINE_DATABASE_URL", ""),
                   help="the cloud's PostgreSQL database, if it runs on one "
                        "[env BRANCHLINE_DATABASE_URL]")


def main(argv):
    parser = argparse.ArgumentParser(prog="branchline-cloud")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("enroll-code", help="make a one-time code to enroll a branch's "
                                                "edge (printed once)")
    p.add_argument("--branch-id", type=int, required=True, help="the branch the box will serve")
    p.add_argument("--ttl-minutes", type=int, default=60, help="how long the code is valid")
    _where_its_data_is(p)
    p.set_defaults(run=enroll_code)
    p = commands.add_parser("restored", help="after restoring an older dump of the database, "
                                             "before serving: hand out no id used after it")
    _where_its_data_is(p)
    p.set_defaults(run=leave_room)
    p = commands.add_parser("vapid-public-key", help="print the VAPID public key browsers "
                                                     "subscribe to Web Push with")
    p.add_argument("--data-dir", default=config.DEFAULTS["cloud"]["data_dir"],
                   help="the cloud's data directory")
    p.set_defaults(run=vapid_public_key)
    args = parser.parse_args(argv)
    args.run(args)
