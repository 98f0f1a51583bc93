"""The base of every API handler: body parsing, authentication, errors.

A handler subclass declares, per HTTP method, the pydantic model of its body
(``bodies = {"post": LoginBody}``), of its query string (``queries = {"get":
PageQuery}``) and of its answer (``responses = {"get": shapes.Order}``), the
methods that go through ``write_once`` (``once = ("post",)``) and the module
errors a method may answer beyond those (``statuses = {"post": (409,)}``), says
whether it needs no token (``public = True``), and documents each method with its
docstring; the OpenAPI document is generated from exactly these. Ids in paths are written ``path_id("order_id")``: at most 18 digits, so an
id no database column can hold is a plain 404. Blocking work goes through
``await self.run(fn, ...)`` (the node's Store threads). Errors are raised, and
rendered by ``write_error`` only; the database out of reach (``database.outage``:
the cloud's PostgreSQL down or its connections cut) is a 503 with Retry-After in
the contract's shape, never a 500.
"""

import logging

import tornado.httputil
import tornado.web

from .. import accounts, commands, database, idempotency, store, validation, wire
from ..errors import APIError, Forbidden, ServiceUnavailable, Unauthenticated, ValidationFailed
from ..tokens import InvalidToken

log = logging.getLogger("branchline.api")

ID = r"\d{1,18}"


def path_id(name):
    """A path segment that captures an id as the keyword argument ``name``."""
    return r"(?P<%s>%s)" % (name, ID)


# The database (the cloud's PostgreSQL) cannot be reached: 503, and when to try again.
DATABASE_AWAY = "The service is briefly unavailable; please try again in a few seconds."
DATABASE_RETRY_AFTER = 2

MAX_URI_BYTES = 8 * 1024       # a longer path and query string is a 414
JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Auth:
    """Who is calling: the verified token's claims, and the branch the request acts
    on (the user's current branch, accounts.acting_branch; else the token's)."""

    def __init__(self, claims, token, branch_id=None):
        self.claims = claims
        self.token = token
        self.user_id = claims["sub"]
        self.restaurant_id = claims["rid"]
        self.branch_id = claims["bid"] if branch_id is None else branch_id
        self.jti = claims["jti"]


@tornado.web.stream_request_body
class APIHandler(tornado.web.RequestHandler):
    """Bodies are received as they stream in (``data_received``), so one over the limit
    is answered with a JSON 413 from its Content-Length, before it is read."""

    public = False          # True: no token needed
    bodies = {}             # method name -> validation.Body subclass
    queries = {}            # method name -> validation.Body subclass of the query string
    parsed_body = None      # what self.body() answered
    responses = {}          # method name -> its 2xx answer's shape (protocol/shapes.py), or
                            # {status: shape} when it is not 200
    once = ()               # methods answered through write_once (Idempotency-Key, commands)
    statuses = {}           # method name -> the module errors ({success: false, message}) it
                            # may answer beyond what the above imply (protocol/openapi.py)
    tags = ()

    @property
    def node(self):
        return self.application.settings["node"]

    def set_default_headers(self):
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")

    # --- request ---------------------------------------------------------------

    def prepare(self):
        if len(self.request.uri) > MAX_URI_BYTES:
            raise APIError("The request's URL is longer than %d KiB." % (MAX_URI_BYTES // 1024),
                           status=414)
        limit = self.node.settings.max_body_kb * 1024
        length = self.request.headers.get("Content-Length", "0")
        if len(self.request.body) > limit or not length.isdigit() or int(length) > limit:
            raise APIError("The request body is larger than %d KiB."
                           % self.node.settings.max_body_kb, status=413)
        if self._stream_request_body:
            self.request.connection.set_max_body_size(limit)
        self.auth = None
        if not self.public:
            return self._authenticate()       # awaited by tornado before the method

    def data_received(self, chunk):
        self.request.body += chunk

    async def _authenticate(self):
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated()
        try:
            claims = await self.node.verify_token(token.strip())
        except InvalidToken:
            raise Unauthenticated()
        if claims["jti"] in self.node.revoked or claims.get("kind") is not None:
            raise Unauthenticated()         # revoked, or a rider's (protocol/partner.py)
        branch_id = accounts.remembered_acting_branch(self.node.store, claims["sub"],
                                                      claims["bid"], self.node.serves)
        if branch_id is None:
            branch_id = await self.run(accounts.acting_branch, claims["sub"], claims["bid"],
                                       self.node.serves)
        if not self.node.serves(branch_id):
            raise Forbidden("This server answers for %s only; your token is for another "
                            "branch. Switch branch at the cloud, or connect to that branch's "
                            "own server." % (self.node.branch_name or "its branch"))
        self.auth = Auth(claims, token.strip(), branch_id)

    def json_body(self):
        """The request body as a dict (JSON or a form), or a 4xx saying why not."""
        if not self.request.body:
            return {}
        ctype = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype in FORM_TYPES:
            arguments = {}
            tornado.httputil.parse_body_arguments(
                self.request.headers.get("Content-Type", ""), self.request.body, arguments, {},
                self.request.headers)
            form = {name: self.decode_argument(values[-1], name).strip()
                    for name, values in arguments.items()}
            try:
                wire.check_text(form)
            except wire.TextNotAllowed as exc:
                raise ValidationFailed.field("body", str(exc))
            return form
        if ctype and ctype not in JSON_TYPES and not ctype.endswith("+json"):
            raise APIError("Send the request body as JSON (Content-Type: application/json).",
                           status=415)
        try:
            return wire.loads(self.request.body.decode("utf-8"))
        except wire.NumberOutOfRange:
            raise ValidationFailed.field("body", "A number in the request body is out of range.")
        except wire.TextNotAllowed as exc:
            raise ValidationFailed.field("body", str(exc))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise APIError("The request body is not valid JSON.", status=400)

    def body(self, model=None):
        """The body validated against ``model`` (default: this method's declared model)."""
        model = model or self.bodies[self.request.method.lower()]
        self.parsed_body = validation.parse(model, self.json_body())
        return self.parsed_body

    def query(self, model=None):
        """The query string validated against ``model`` (default: this method's declared
        one): the arguments its fields name, blank ones left out, with the same 422
        field errors as a body."""
        model = model or self.queries[self.request.method.lower()]
        values = {name: self.get_query_argument(name) for name in model.model_fields
                  if self.get_query_argument(name, "").strip()}
        try:
            wire.check_text(values)
        except wire.TextNotAllowed as exc:
            raise ValidationFailed.field(next(iter(values)), str(exc))
        return validation.parse(model, values)

    def page_path(self):
        """The URL a paginator's links are built on."""
        return self.request.protocol + "://" + self.request.host + self.request.path

    async def run(self, fn, *args, **kwargs):
        return await self.node.store.run(fn, *args, **kwargs)

    def load_actor(self):
        """(Store thread) Who the request acts as: the token's user."""
        return accounts.load_actor(self.auth)

    def idempotency_key(self):
        """The key a retry of this request repeats (Idempotency-Key, or the ``uuid``
        of a Retryable body), or None."""
        key = self.request.headers.get("Idempotency-Key")
        if key is not None:
            idempotency.check_key(key)
        elif isinstance(self.parsed_body, validation.Retryable) and self.parsed_body.uuid:
            key = "uuid:" + self.parsed_body.uuid
        return key

    async def actor_run(self, fn, *args, **kwargs):
        """Run fn(actor, *args) in a Store thread for the caller."""
        def with_actor():
            return fn(self.load_actor(), *args, **kwargs)
        return await self.run(with_actor)

    async def write_once(self, fn, *args, status=200):
        """Answer fn(actor, *args) with status; under an Idempotency-Key (or the
        ``uuid`` of a Retryable body), a retry gets the first answer and fn is not run
        again. When another node is the branch's authority (the cloud, for a branch
        an edge runs) and fn writes the branch's own data (sync/writes.py), fn is
        sent there as a command instead, with the key (protocol/commands.py)."""
        key = self.idempotency_key()
        fingerprint = idempotency.request_hash(self.request.method, self.request.path,
                                               self.request.body)
        authority = self.node.authority
        runs_it = (authority.sends(fn) and await authority.edge_for(self.auth.branch_id)
                   if authority is not None else None)
        if runs_it:
            await self.run(self.load_actor)     # still active, still here
            request = key and {"method": self.request.method, "path": self.request.path,
                               "fingerprint": fingerprint, "key": key}
            code, body = await authority.send(self.auth, runs_it, commands.kind_of(fn),
                                              commands.payload(args, request), key, status)
            self.write_json(body, code)
            return
        if key is None:
            self.write_json(await self.actor_run(fn, *args), status)
            return

        def run_once():
            actor = self.load_actor()
            return idempotency.once(actor.user_id, key, self.request.method, self.request.path,
                                    fingerprint, fn, actor, *args, status=status)
        code, body = await self.run(run_once)
        self.write_json(body, code)

    def now(self):
        return self.node.clock.now()

    # --- response --------------------------------------------------------------

    def write_json(self, obj, status=200):
        self.set_status(status)
        self.finish(wire.dumps_bytes(obj))

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        if isinstance(exc, APIError):
            for name, value in exc.headers.items():
                self.set_header(name, value)
            body = exc.body()
        elif isinstance(exc, tornado.web.HTTPError) and status_code < 500:
            body = {"success": False, "message": exc.reason or self._reason}
        else:
            body = {"success": False, "message": "Server error."}
        self.finish(wire.dumps(body))

    def send_error(self, status_code=500, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        # Away or going: the database out of reach, the store closed, or (a 500 without
        # an exception) Tornado answering a request whose task the stopping node cancelled.
        stopped = status_code == 500 and "exc_info" not in kwargs
        if database.outage(exc) or isinstance(exc, store.Closed) or stopped:
            exc = ServiceUnavailable(DATABASE_AWAY, retry_after=DATABASE_RETRY_AFTER)
            kwargs["exc_info"] = (ServiceUnavailable, exc, None)
        if isinstance(exc, APIError):
            status_code = exc.status
            kwargs["reason"] = None
        super().send_error(status_code, **kwargs)

    @classmethod
    def allowed_methods(cls):
        """The HTTP methods this route answers (OPTIONS aside)."""
        return [name.upper() for name in ("get", "post", "put", "patch", "delete")
                if getattr(cls, name) is not getattr(tornado.web.RequestHandler, name)]

    def log_exception(self, typ, value, tb):
        if isinstance(value, APIError):
            return
        if isinstance(value, store.Closed):
            return          # shutting down: the client sends it again once the node is back
        if database.outage(value):
            log.warning("%s: the database cannot be reached: %s", self._request_summary(),
                        str(value).strip().splitlines()[0] if str(value).strip() else typ.__name__)
            return
        super().log_exception(typ, value, tb)

    def _request_summary(self):
        return "%s %s (%s)" % (self.request.method, self.request.path, self.request.remote_ip)


class NotFoundHandler(APIHandler):
    public = True

    def prepare(self):
        raise APIError("Not found.", status=404)
