"""Builds the Tornado application of a node. It opens no socket."""

import tornado.web

from .handlers.base import NotFoundHandler
from .routes import api_routes


def make_app(node, *, extra_routes=(), **services):
    """The Application serving every API route for ``node``, plus the node's own
    routes (the edge's status page, the cloud's sync endpoints, ...); handlers
    find ``services`` (e.g. ``sync``) in the application's settings."""
    routes = api_routes() + list(extra_routes)
    return tornado.web.Application(
        routes,
        node=node,
        api_routes=routes,
        default_handler_class=NotFoundHandler,
        compress_response=False,
        xsrf_cookies=False,
        **services,
    )
