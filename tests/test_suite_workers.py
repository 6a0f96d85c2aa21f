"""make test runs the suite on two pytest-xdist workers with --dist loadgroup, so that the
bench smoke runs share one worker (one bench at a time). pytest-xdist tells its scheduler a
test's group by a suffix on the test's node id; a pytest that ignores the suffix splits the
groups without a word (pytest 9.2: pytest-xdist issue #1386). This fails instead.

The scheduler hands out the largest groups first: a group must not hold a test that leaves
data committed behind (tests/conftest.py runs those last), as a browser test's live portal
does."""

import os

import pytest


@pytest.mark.xdist_group("suite-check")
def test_a_grouped_test_carries_its_group_to_the_scheduler(request):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.skip("not run by pytest-xdist's workers (make test runs them)")
    if not request.config.getvalue("loadgroup"):
        pytest.skip("pytest-xdist runs without --dist loadgroup")
    assert request.node.nodeid.endswith("@suite-check"), request.node.nodeid


def test_no_group_holds_a_test_that_commits_data(request):
    grouped = [item for item in request.session.items if item.get_closest_marker("xdist_group")]
    committing = [
        item.nodeid
        for item in grouped
        if "live_portal" in getattr(item, "fixturenames", ())
        or item.get_closest_marker("commits_world")
    ]
    assert committing == []
