"""The bad-input table: every route, every kind of bad input an outside probe sent.

For every method of every route the edge mounts (the route table, tests/test_route_table.py
fills its paths with rows of the caller's own branch), with a manager's token (a rider's
for the rider app): huge
exponents, floats as ids, 2**63, negative and zero numbers, NUL and lone surrogates in
text, a body over the limit, a URL over 8 KiB, a body that is not JSON. Every answer is a
4xx in the contract's shape (RESPONSES.md), never a 5xx, each within a fraction of a
second, and nothing is stored: the database holds the same rows afterwards.
"""

import asyncio
import typing

from protocol import models
from sync.models import SYNC_MODELS
from test_route_table import (MAKERS, MOUNTED, OWN, ROUTES, catalog_rows, downtown_token,
                              make_rows, placeholders)

# Values a field of every declared body and query gets, one kind at a time.
BAD_VALUES = {
    "a huge exponent": "1e999999999",
    "a tiny exponent": "1e-999999999",
    "a float as an id": "1e19",
    "2**63": str(2 ** 63),
    "a negative number": "-1",
    "zero": "0",
    "a NUL": '"A\\u0000B"',
    "a lone surrogate": '"A\\ud800"',
}
# Values that are good input for every field of a body, so not probed there.
GOOD_THERE = {("POST", "/partner/location"): {"zero", "a negative number"}}   # coordinates
QUERY_NUMBERS = ["1e999999999", "9" * 30, "-1"]     # bad for a field that is not text
QUERY_TEXT = ["%ED%A0%80"]               # bad for any field (a NUL in a query string is
                                         # read as a space by Tornado: it never reaches a row)
TOO_SLOW = 0.5      # seconds; the probe's target is 100 ms, loaded CI gets some room


def row_counts(server):
    def count():
        return {m._meta.table_name: m.select().count()
                for m in models.ALL_MODELS + SYNC_MODELS
                if m not in (models.IdempotencyRecord,)}
    return server.node.store.call(count)


def takes_text(annotation):
    """Whether a query field takes any text (a search: "-1" is a fine thing to look for)."""
    return annotation is str or any(takes_text(arg) for arg in typing.get_args(annotation))


def raw_body(fields, value):
    return ("{%s}" % ", ".join('"%s": %s' % (name, value) for name in fields)).encode()


def cases():
    """[(label, method, path key, raw body or None, query string, content type)]."""
    out = []
    for (method, path), (_, handler) in sorted(MOUNTED.items()):
        body_model = handler.bodies.get(method.lower())
        query_model = handler.queries.get(method.lower())
        if body_model is not None:
            fields = list(body_model.model_fields)
            for label, value in BAD_VALUES.items():
                if label in GOOD_THERE.get((method, path), ()):
                    continue
                out.append((label, method, path, raw_body(fields, value), "", None))
            out.append(("a body over the limit", method, path,
                        b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}', "", None))
            out.append(("not JSON", method, path, b"name=a", "", "text/plain"))
        if query_model is not None:
            for value in QUERY_NUMBERS + QUERY_TEXT:
                names = [name for name, field in query_model.model_fields.items()
                         if value in QUERY_TEXT or not takes_text(field.annotation)]
                if names:
                    query = "&".join("%s=%s" % (name, value) for name in names)
                    out.append(("query " + value[:12], method, path, None, "?" + query, None))
        out.append(("a URL over 8 KiB", method, path, None, "?q=" + "a" * 9000, None))
    return out


def contract_shape(status, body):
    if status == 401:
        return body == {"message": "Unauthenticated."}
    if status in (422,) and "errors" in body:
        return isinstance(body["message"], str) and all(
            isinstance(m, list) and m for m in body["errors"].values())
    if status == 429:
        return isinstance(body.get("message"), str)
    return body.get("success") is False and isinstance(body.get("message"), str)


async def test_every_route_refuses_bad_input_quickly_in_the_contracts_shape(start_node, demo):
    edge = await start_node("edge", OWN)
    token = await downtown_token(edge, demo)
    rider = await downtown_token(edge, demo, ROUTES[("GET", "/partner/profile")])
    paths = {ROUTES[key].target(key[1]) for key in MOUNTED}
    names = set().union(*(placeholders(path) for path in paths))
    ids = catalog_rows(demo, OWN)
    ids.update(edge.node.store.call(make_rows, demo, OWN, {MAKERS[n] for n in names
                                                           if n in MAKERS},
                                    edge.node.clock.now()))
    targets = {path: path.format(**ids).split("?")[0] for path in paths}
    before = row_counts(edge)
    loop = asyncio.get_running_loop()
    problems, times = [], []
    for label, method, path, raw, query, ctype in cases():
        url = targets[ROUTES[(method, path)].target(path)] + query
        started = loop.time()
        resp = await edge.fetch(method, url, raw=raw,
                                token=rider if ROUTES[(method, path)].rider else token,
                                content_type=ctype or "application/json")
        took = loop.time() - started
        times.append((took, "%s %s with %s" % (method, path, label)))
        if not 400 <= resp.status < 500:
            problems.append("%s %s with %s: %s" % (method, path, label, resp))
        elif resp.body is None or not contract_shape(resp.status, resp.body):
            problems.append("%s %s with %s: not the contract's shape: %s"
                            % (method, path, label, resp))
        elif took > TOO_SLOW:
            problems.append("%s %s with %s took %.2f s" % (method, path, label, took))
    times.sort()
    print("\nbad-input table: %d requests over %d operations; median %.1f ms, p95 %.1f ms, "
          "slowest %.0f ms (%s)" % (len(times), len(MOUNTED), times[len(times) // 2][0] * 1000,
                                   times[int(len(times) * 0.95)][0] * 1000,
                                   times[-1][0] * 1000, times[-1][1]))
    assert not problems, "\n".join(problems[:40])
    assert row_counts(edge) == before
