"""The OpenAPI document of every route this node serves."""

from .. import openapi
from .base import APIHandler


class OpenAPIHandler(APIHandler):
    responses = {"get": {"type": "object", "required": ["openapi", "paths"]}}
    public = True
    tags = ("meta",)

    def get(self):
        """The OpenAPI 3.1 document of this API, generated from the route table."""
        self.write_json(openapi.document(self.application.settings["api_routes"]))


default_handlers = [
    (r"/openapi.json", OpenAPIHandler),
]
