"""make test runs the suite on two pytest-xdist workers with --dist loadgroup: the bench
smoke runs share one worker (one bench at a time), and the accessibility walk keeps each
language's roles on one worker (so that a document two roles get alike is scanned once).
pytest-xdist tells its scheduler a test's group by a suffix on the test's node id; a pytest
that ignores the suffix splits the groups without a word (pytest 9.2: pytest-xdist issue
#1386). This fails instead."""

import os

import pytest


@pytest.mark.xdist_group("suite-check")
def test_a_grouped_test_carries_its_group_to_the_scheduler(request):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.skip("not run by pytest-xdist's workers (make test runs them)")
    if not request.config.getvalue("loadgroup"):
        pytest.skip("pytest-xdist runs without --dist loadgroup")
    assert request.node.nodeid.endswith("@suite-check"), request.node.nodeid
