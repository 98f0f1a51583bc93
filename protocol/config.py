"""Every setting of an edge and a cloud node, in one place.

A setting is read, lowest priority first, from its default, the TOML file given
with ``--config`` (a flat table of the names below), the environment variable
``BRANCHLINE_<NAME>`` and the command-line flag ``--<name-with-dashes>``.
deploy/edge.toml and deploy/cloud.toml show every setting with its comment.
"""

import argparse
import dataclasses
import os
import tomllib


def boolean(value):
    """A yes/no setting: true/false, yes/no, on/off, 1/0 (TOML booleans too)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(value)


def redis_address(value):
    """A Redis URL (redis://, rediss:// or unix://), or empty for none."""
    text = str(value).strip()
    if text and not text.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(value)
    return text


@dataclasses.dataclass(frozen=True)
class Option:
    name: str
    type: type
    default: object
    help: str
    roles: tuple = ("edge", "cloud")


OPTIONS = [
    Option("host", str, "0.0.0.0", "address to listen on (0.0.0.0: every interface of the LAN)"),
    Option("port", int, None, "TCP port for the API and WebSocket (edge 8700, cloud 8800)"),
    Option("data_dir", str, None, "directory for the database, keys and logs "
           "(edge ./data/edge, cloud ./data/cloud)"),
    Option("node_id", int, None, "this node's id, 1..8191, part of every row id it makes "
           "(the cloud is 1; an edge gets its own when it enrolls)"),
    Option("node_name", str, "", "a name for logs and the status page"),
    Option("branch_id", int, 0, "the branch this edge serves (0: the only branch in its database)",
           ("edge",)),
    Option("cloud_url", str, "", "base URL of the cloud node, e.g. https://cloud.example.com",
           ("edge",)),
    Option("public_url", str, "", "URL at which clients reach this node (default http://host:port)"),
    Option("database_url", str, "", "database of the cloud: empty for SQLite in data_dir, "
           "or postgresql://user@host/db", ("cloud",)),
    Option("workers", int, 1, "cloud processes serving the port together, any of them "
           "taking any request (more than 1 needs database_url: PostgreSQL)", ("cloud",)),
    Option("redis_url", redis_address, "", "Redis that the cloud's processes share realtime "
           "events, presence and replay through, e.g. redis://127.0.0.1:6379/0 (empty: each "
           "process alone; needed for realtime across several workers or hosts)", ("cloud",)),
    Option("behind_proxy", boolean, False, "trust X-Real-IP / X-Forwarded-For and "
           "X-Forwarded-Proto from a reverse proxy in front (deploy/nginx): the login "
           "throttle counts the real client; only when clients cannot reach this port "
           "directly (they could claim any address)", ("cloud",)),
    Option("token_ttl_hours", int, 24, "hours a login token stays valid"),
    Option("login_attempts_per_minute", int, 5, "login attempts per email and client per minute"),
    Option("max_body_kb", int, 1024, "largest request body accepted, in KiB"),
    Option("log_level", str, "info", "debug, info, warning or error"),
    Option("pusher_app_id", str, "", "app id of the Pusher-compatible realtime server "
           "(empty: one generated into data_dir/keys on first start)"),
    Option("pusher_key", str, "", "app key that pusher-js / Laravel Echo connect with "
           "(empty: generated, like the app id)"),
    Option("pusher_secret", str, "", "secret that signs channel authorisations and the "
           "publishing API (empty: generated; never shown)"),
    Option("max_connections", int, 5000, "WebSocket connections this node accepts at once "
           "(more are refused with close code 4100: retry later)"),
    Option("activity_timeout", int, 120, "seconds of silence after which a WebSocket client "
           "and this node ping each other"),
    Option("push_http_endpoints", str, "no", "Web Push subscriptions whose endpoint is plain "
           "http: no, loopback (a local push service, as the demo allows) or yes"),
    Option("push_vapid_subject", str, "mailto:push@branchline.invalid", "the VAPID 'sub' "
           "claim push services may contact (mailto: or https: URL)", ("cloud",)),
    Option("push_fcm_credentials", str, "", "path of the Firebase service-account JSON for "
           "FCM HTTP v1 (empty: android/ios tokens are not pushed)", ("cloud",)),
    Option("push_fcm_base_url", str, "https://fcm.googleapis.com", "FCM's base URL",
           ("cloud",)),
    Option("push_fcm_token_uri", str, "", "OAuth token URI for the service account "
           "(empty: the one in its JSON)", ("cloud",)),
    Option("push_concurrency", int, 16, "pushes in flight at once", ("cloud",)),
    Option("push_max_attempts", int, 5, "tries per device before a push is given up "
           "(429 and 5xx are retried with backoff, honouring Retry-After)", ("cloud",)),
    Option("replay_history", int, 200, "events kept per channel so a client that reconnects "
           "gets what it missed"),
    # The edge on the shop's LAN: TLS and discovery (edge/lan.py, edge/certificate.py).
    Option("plain_http", boolean, False, "serve plain HTTP and WS instead of HTTPS and WSS "
           "(anyone on the network can read tokens: only on 127.0.0.1 or a trusted LAN)",
           ("edge",)),
    Option("tls_cert", str, "", "PEM certificate (chain) to serve HTTPS with (empty: one "
           "generated into data_dir/keys/tls and renewed before it expires, same key)",
           ("edge",)),
    Option("tls_key", str, "", "PEM private key of tls_cert", ("edge",)),
    Option("announce", boolean, True, "announce this edge on the LAN by mDNS/DNS-SD "
           "(_branchline._tcp and _http._tcp) so tablets find it", ("edge",)),
    Option("announce_name", str, "", "the instance name announced (empty: the branch's name; "
           "made unique on the LAN when taken)", ("edge",)),
    Option("announce_addresses", str, "", "comma-separated addresses to announce (empty: "
           "those of every LAN interface, or host when it is one address)", ("edge",)),
]

DEFAULTS = {
    "edge": {"port": 8700, "data_dir": "./data/edge", "node_id": 2},
    "cloud": {"port": 8800, "data_dir": "./data/cloud", "node_id": 1},
}


@dataclasses.dataclass
class Settings:
    role: str
    values: dict

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def base_url(self):
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return "%s://%s:%d" % ("https" if self.tls else "http", host, self.port)

    @property
    def tls(self):
        """Whether this node serves HTTPS (an edge, unless plain_http says not)."""
        return self.role == "edge" and not self.values.get("plain_http", True)


class ConfigError(Exception):
    pass


METAVARS = {boolean: "BOOL", redis_address: "URL"}


def options_for(role):
    return [o for o in OPTIONS if role in o.roles]


def add_arguments(parser, role):
    parser.add_argument("--config", metavar="FILE",
                        help="TOML file with any of the settings below")
    for o in options_for(role):
        default = DEFAULTS[role].get(o.name, o.default)
        parser.add_argument("--" + o.name.replace("_", "-"), dest=o.name, type=o.type,
                            default=None, metavar=METAVARS.get(o.type, o.type.__name__.upper()),
                            help="%s [env BRANCHLINE_%s; default %r]"
                            % (o.help, o.name.upper(), default))


def _coerce(option, value, source):
    try:
        return option.type(value)
    except (TypeError, ValueError):
        raise ConfigError("%s: %s must be %s, got %r"
                          % (source, option.name, option.type.__name__, value))


def load(role, args=None, environ=None):
    """Settings for role ("edge" or "cloud") from defaults, file, env and args."""
    environ = os.environ if environ is None else environ
    args = vars(args) if isinstance(args, argparse.Namespace) else dict(args or {})
    options = {o.name: o for o in options_for(role)}
    values = {name: DEFAULTS[role].get(name, o.default) for name, o in options.items()}

    path = args.get("config") or environ.get("BRANCHLINE_CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError("cannot read config %s: %s" % (path, exc))
        for key, value in data.items():
            if key not in options:
                raise ConfigError("%s: unknown setting %r" % (path, key))
            values[key] = _coerce(options[key], value, path)

    for name, o in options.items():
        env = environ.get("BRANCHLINE_" + name.upper())
        if env is not None:
            values[name] = _coerce(o, env, "BRANCHLINE_" + name.upper())
        if args.get(name) is not None:
            values[name] = args[name]
    return Settings(role, values)
