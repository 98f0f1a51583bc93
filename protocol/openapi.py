"""The OpenAPI 3.1 document, generated from the route table.

Paths and methods come from the handlers mounted; summaries from each method's
docstring; request bodies and query parameters from the pydantic models the
handlers validate with (``bodies``, ``queries``); security from ``public``; 2xx
answers from ``responses`` (protocol/shapes.py). Nothing here is written by hand per
route, and every status the server can answer is listed (``_statuses``):

- every operation: 413 (a body over the limit) and 414 (a URL over 8 KiB);
- a token needed (not ``public``): 401 ``Unauthenticated``, 403 (a token of a branch this
  node does not serve, or a role that may not) and 404;
- a body: 400 (not JSON) and 415 (not JSON nor a form); a body or a query: 422
  ``ValidationError``; a path id: 404;
- ``once`` (``write_once``): 422 ``ValidationError`` (a bad Idempotency-Key) and, at the
  cloud for a branch its edge runs, 202 ``Queued``, 409, 410 and 503 (with Retry-After);
- ``statuses``: the module errors the handler's domain code raises (``Failure``; 429 is
  ``Throttled`` with Retry-After). A 422 there is ``Unprocessable`` (a refusal in the
  current state, ``{success: false, message}``); with a body's 422 it is ``oneOf`` both.

405 is never listed (every answer says Allow).
"""

import re

import pydantic
import pydantic.json_schema

from . import shapes
from .handlers.base import ID, APIHandler
from .validation import NO_NUL

METHODS = ("get", "post", "put", "patch", "delete")
_GROUP = re.compile(r"\(\?P<(\w+)>([^)]*)\)")

ERROR_SCHEMAS = {
    "Unauthenticated": {"type": "object", "properties": {"message": {"type": "string"}},
                        "required": ["message"]},
    "ValidationError": {"type": "object", "required": ["message", "errors"], "properties": {
        "message": {"type": "string"},
        "errors": {"type": "object",
                   "additionalProperties": {"type": "array", "items": {"type": "string"}}}}},
    "Failure": {"type": "object", "required": ["success", "message"], "properties": {
        "success": {"const": False}, "message": {"type": "string"}}},
    "Throttled": {"type": "object", "required": ["message"],
                  "properties": {"message": {"type": "string"}}},
    "Queued": {"type": "object", "required": ["success", "queued", "command_id", "message"],
               "properties": {"success": {"const": True}, "queued": {"const": True},
                              "command_id": {"type": "integer"}, "message": {"type": "string"}}},
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again",
                               "required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
ONCE_STATUSES = (409, 410, 503)       # at the cloud, when the branch's edge runs it
DESCRIPTIONS = {
    400: "The body is not JSON, or the request is refused in the current state",
    401: "Missing or invalid token", 403: "Not allowed", 404: "Not found",
    409: "Conflicts with the current state", 410: "Reached the branch too late",
    413: "Body too large", 414: "URL too long", 415: "Send JSON (or a form)",
    422: "Invalid input", 429: "Too many attempts", 503: "The branch's server is offline",
    507: "No room left",
}


def _path(pattern):
    path = _GROUP.sub(lambda m: "{%s}" % m.group(1), pattern)
    return path.replace("\\", "").rstrip("$")


class RequestSchema(pydantic.json_schema.GenerateJsonSchema):
    """Request bodies' and queries' schemas: text never holds NUL (the body reader
    refuses it: protocol/wire.py), which a pattern says where a field has none."""

    def str_schema(self, schema):
        found = super().str_schema(schema)
        found.setdefault("pattern", NO_NUL)
        return found


def _path_schema(group):
    if group == ID:
        return {"type": "string", "pattern": "^[0-9]{1,18}$"}
    return {"type": "string"}


def _query_parameters(model):
    schema = model.model_json_schema(schema_generator=RequestSchema)
    required = set(schema.get("required", ()))
    return [{"name": name, "in": "query", "required": name in required, "schema": field}
            for name, field in schema["properties"].items()]


def _doc(fn):
    text = (fn.__doc__ or "").strip()
    summary, _, rest = text.partition("\n")
    return summary.strip(), " ".join(line.strip() for line in text.splitlines())


def _ref(name):
    return {"$ref": "#/components/schemas/%s" % name}


def _answer(description, schema, headers=None):
    answer = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _error(ref, status):
    return _answer(DESCRIPTIONS[status], _ref(ref),
                   RETRY_AFTER if status == 429 else None)


def _add(schemas, name, schema):
    """Put schema in the document's components as ``name``: two different schemas of
    one name would leave one of them describing both (a class named alike elsewhere)."""
    if schemas.get(name, schema) != schema:
        raise LookupError("two different schemas are named %s: rename one" % name)
    schemas[name] = schema


def _shape_schema(shape, schemas):
    """The JSON schema of a response shape (protocol/shapes.py, or a type such as
    list[Shape]), its models added to ``schemas``."""
    if isinstance(shape, dict):
        return shape                                       # a JSON schema as it is
    schema = pydantic.TypeAdapter(shapes.model(shape)).json_schema(
        mode="serialization", ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        _add(schemas, name, sub)
    if isinstance(shape, type) and issubclass(shape, shapes.Shape):
        _add(schemas, shape.__name__, schema)
        return _ref(shape.__name__)
    return schema


def _statuses(handler, method, has_path_ids):
    """{status: error schema name} of every error ``method`` of ``handler`` can answer."""
    found = {413: "Failure", 414: "Failure"}
    validates = method in handler.bodies or method in handler.queries or method in handler.once
    if not handler.public:
        found.update({401: "Unauthenticated", 403: "Failure", 404: "Failure"})
    if method in handler.bodies:
        found.update({400: "Failure", 415: "Failure"})
    if validates:
        found[422] = "ValidationError"
    if has_path_ids:
        found[404] = "Failure"
    if method in handler.once:
        found.update((status, "Failure") for status in ONCE_STATUSES)
    for status in handler.statuses.get(method, ()):
        if status == 429:
            found[429] = "Throttled"
        elif status == 422 and validates:
            found[422] = ("ValidationError", "Failure")
        else:
            found[status] = "Failure"
    return found


def _responses(handler, method, has_path_ids, schemas):
    shape = handler.responses.get(method)
    if shape is None:
        raise LookupError("%s.%s declares no response (responses = {%r: ...})"
                          % (handler.__name__, method, method))
    by_status = isinstance(shape, dict) and all(isinstance(k, int) for k in shape)
    ok = shape if by_status else {200: shape}
    responses = {str(status): _answer("Success", _shape_schema(s, schemas))
                 for status, s in ok.items()}
    if method in handler.once:
        responses["202"] = _answer("Queued for the branch's server", _ref("Queued"))
    for status, ref in sorted(_statuses(handler, method, has_path_ids).items()):
        if isinstance(ref, tuple):
            responses[str(status)] = _answer(DESCRIPTIONS[status],
                                             {"oneOf": [_ref(r) for r in ref]})
        else:
            responses[str(status)] = _error(ref, status)
    if "503" in responses:
        responses["503"]["headers"] = RETRY_AFTER
    return responses


RETRIES = (
    "The TableTrack ApplicationIntegration API, served by Branchline edges and the cloud.\n\n"
    "Retrying safely: a request that creates something or takes money may have been "
    "carried out even when its answer was lost (a Wi-Fi drop, a server restart). Send "
    "an `Idempotency-Key` header (any string up to 255 characters, new for each "
    "request), or the request's own `uuid` in its body (orders' `uuid` / "
    "`client_order_uuid`), and send the same again when retrying: the retry gets the "
    "first answer and nothing is done twice. The same key with another request is a "
    "422. A retry without either may do the work twice.")


def document(routes, *, title="Branchline API", version="1"):
    paths, schemas = {}, dict(ERROR_SCHEMAS)
    for pattern, handler in routes:
        if not (isinstance(handler, type) and issubclass(handler, APIHandler)):
            continue
        path = _path(pattern)
        params = [{"name": name, "in": "path", "required": True, "schema": _path_schema(inner)}
                  for name, inner in _GROUP.findall(pattern)]
        item = paths.setdefault(path, {})
        for method in METHODS:
            fn = getattr(handler, method, None)
            if fn is None or fn is getattr(APIHandler, method, None):
                continue
            summary, description = _doc(fn)
            op = {
                "operationId": "%s_%s" % (handler.__name__, method),
                "summary": summary or handler.__name__,
                "description": description,
                "tags": list(handler.tags),
                "responses": _responses(handler, method, bool(params), schemas),
            }
            query = handler.queries.get(method)
            parameters = params + (_query_parameters(query) if query is not None else [])
            if parameters:
                op["parameters"] = parameters
            model = handler.bodies.get(method)
            if model is not None:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}",
                                                 schema_generator=RequestSchema)
                for name, sub in schema.pop("$defs", {}).items():
                    _add(schemas, name, sub)
                _add(schemas, model.__name__, schema)
                op["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/%s" % model.__name__}}}}
            if handler.public:
                op["security"] = []
            item[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": RETRIES},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT"}},
        },
        "security": [{"bearer": []}],
    }
