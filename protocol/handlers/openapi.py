"""The OpenAPI document of every route this node serves."""

from .. import openapi, wire
from .base import APIHandler


class OpenAPIHandler(APIHandler):
    responses = {"get": {"type": "object", "required": ["openapi", "paths"]}}
    public = True
    tags = ("meta",)

    def get(self):
        """The OpenAPI 3.1 document of this API, generated from the route table."""
        # Built on the first request only (a third of a second on the event loop, which
        # stalled every other request each time); the route table never changes after.
        settings = self.application.settings
        if "openapi_document" not in settings:
            settings["openapi_document"] = wire.dumps_bytes(
                openapi.document(settings["api_routes"]))
        self.finish(settings["openapi_document"])


default_handlers = [
    (r"/openapi.json", OpenAPIHandler),
]
