"""The route table: every API route, once, mounted by the edge and the cloud.

Each handlers module ends with ``default_handlers``; this list collects them
under the contract's prefix. The OpenAPI document is generated from the same
table (``protocol.openapi``), so what is served and what is documented agree.
"""

from .handlers import (auth, cash_register, catalog, customer_app, customers, delivery,
                       head_office, kitchen, multipos, notifications, openapi, orders,
                       partner, platform, pusher, reservations, staff, tables)

PREFIX = "/api/application-integration"

HANDLER_MODULES = [auth, platform, catalog, orders, kitchen, tables, reservations, customers,
                   staff, notifications, customer_app, pusher, cash_register, multipos, delivery,
                   partner, head_office, openapi]


def api_routes():
    """[(full path pattern, handler class)] for every API route."""
    routes = []
    for module in HANDLER_MODULES:
        for pattern, handler in module.default_handlers:
            routes.append((PREFIX + pattern, handler))
    return routes
