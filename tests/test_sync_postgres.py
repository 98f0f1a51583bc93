"""Sync with the cloud on PostgreSQL: the edge<->cloud tests of tests/test_sync.py
and chaos tests of tests/test_sync_chaos.py, run again over the real server
(tests/pgserver.py; skipped with the reason when there is none)."""

import pytest

from test_sync import *  # noqa: F401,F403
from test_sync import enrolled, pusher  # noqa: F401
from test_sync_chaos import cluster  # noqa: F401


@pytest.fixture
def cloud_database(postgres_cloud_database):
    return postgres_cloud_database
from test_sync_chaos import (test_a_refusal_whose_answer_was_lost_is_still_parked_at_the_edge,  # noqa: F401,E402
                             test_an_outage_of_the_cloud_then_reconnection,
                             test_kill_9_of_the_edge_and_the_cloud_during_2000_orders)
