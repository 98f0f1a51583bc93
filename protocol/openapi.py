"""The OpenAPI 3.1 document, generated from the route table.

Paths and methods come from the handlers mounted; summaries from each method's
docstring; request bodies and query parameters from the pydantic models the
handlers validate with (``bodies``, ``queries``); security from ``public``. Nothing here is written by hand per route.
"""

import re

from .handlers.base import ID, APIHandler

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
}


def _path(pattern):
    path = _GROUP.sub(lambda m: "{%s}" % m.group(1), pattern)
    return path.replace("\\", "").rstrip("$")


def _path_schema(group):
    if group == ID:
        return {"type": "string", "pattern": "^[0-9]{1,18}$"}
    return {"type": "string"}


def _query_parameters(model):
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    return [{"name": name, "in": "query", "required": name in required, "schema": field}
            for name, field in schema["properties"].items()]


def _doc(fn):
    text = (fn.__doc__ or "").strip()
    summary, _, rest = text.partition("\n")
    return summary.strip(), " ".join(line.strip() for line in text.splitlines())


def _error(ref, description):
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/%s" % ref}}}}


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
                "responses": {
                    "200": {"description": "Success", "content": {"application/json": {}}},
                    "422": _error("ValidationError", "Invalid input"),
                    "403": _error("Failure", "Not allowed"),
                    "404": _error("Failure", "Not found"),
                },
            }
            query = handler.queries.get(method)
            parameters = params + (_query_parameters(query) if query is not None else [])
            if parameters:
                op["parameters"] = parameters
            model = handler.bodies.get(method)
            if model is not None:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, sub in schema.pop("$defs", {}).items():
                    schemas[name] = sub
                schemas[model.__name__] = schema
                op["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/%s" % model.__name__}}}}
            if handler.public:
                op["security"] = []
            else:
                op["responses"]["401"] = _error("Unauthenticated", "Missing or invalid token")
            item[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "The TableTrack ApplicationIntegration API, served by "
                                "Branchline edges and the cloud."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT"}},
        },
        "security": [{"bearer": []}],
    }
