"""The OpenAPI document is generated from the route table both servers mount."""

import re

from protocol.handlers.base import APIHandler
from protocol.routes import api_routes


async def test_both_servers_serve_a_document_of_every_route(edge, cloud):
    for node in (edge, cloud):
        resp = await node.fetch("GET", "/openapi.json")
        assert resp.status == 200, resp
        doc = resp.body
        assert doc["openapi"].startswith("3.1")
        for pattern, handler in api_routes():
            path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
            assert path in doc["paths"], path
            for method in ("get", "post", "put", "delete"):
                if callable(getattr(handler, method, None)) and \
                        getattr(handler, method) is not getattr(APIHandler, method):
                    assert method in doc["paths"][path], (path, method)
        login = doc["paths"]["/api/application-integration/auth/login"]["post"]
        assert login["security"] == []
        schema = doc["components"]["schemas"]["LoginBody"]
        assert set(schema["required"]) == {"email", "password"}
        me = doc["paths"]["/api/application-integration/auth/me"]["get"]
        assert "401" in me["responses"]
