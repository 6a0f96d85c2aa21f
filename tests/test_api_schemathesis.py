"""Schemathesis against the live OpenAPI schema (loaded from /api/v1/schema/ through the
WSGI app), for every operation x every role of tests.api_world: no server error, and every
answer conforms to the schema (status code, content type, body). Path ids are drawn from
the world's real objects as well as generated, so reads and writes reach real rows.

A stateful run follows the schema's links (create -> read, added by api.schema's
add_read_links, plus schemathesis's own dependency inference) as the collaborator and as
the facilitator.

Requests go through Django's WSGIHandler, whose request_started / request_finished signals
would close the test transaction's connection; like Django's test Client, the calls run with
close_old_connections disconnected.
"""

from __future__ import annotations

from contextlib import contextmanager

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .adoption_world import api_adoptions
from .api_world import ADMIN, FACILITATOR_X, MEMBER_A, ROLES, ApiWorld, build_world, today

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 6
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
)
# No shrinking in stateful runs: a replay meets a database the first run changed (see
# validate_response below).
STATEFUL_SETTINGS = hypothesis.settings(
    SETTINGS,
    max_examples=40,
    stateful_step_count=10,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)


@contextmanager
def inside_test_transaction():
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, settings, tmp_path) -> ApiWorld:
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    # Hundreds of requests a minute from one client: throttling is another test's subject.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(("anon", "user", "pledge", "signin"), "100000/min"),
    }
    return build_world()


def real_path_parameters(world: ApiWorld) -> dict[str, list[dict]]:
    """Per path template, parameters that address real objects of the world."""
    commitments = [
        world.pledged_a,
        world.pledged_a2,
        world.pledged_b,
        world.delivered_a,
        world.delivered_b,
    ]
    by_path = {
        "/api/v1/commitments/{id}/": [{"id": c.pk} for c in commitments],
        "/api/v1/commitments/{id}/deliveries/{delivery_id}/confirm/": [
            {"id": d.commitment_id, "delivery_id": d.pk}
            for d in (world.delivery_a, world.delivery_b)
        ],
        "/api/v1/needs/{id}/": [{"id": n.pk} for n in (world.need_xp, world.need_yq)],
        "/api/v1/exports/{id}/": [{"id": e.pk} for e in (world.export_lead, world.export_admin)],
        "/api/v1/notifications/{id}/": [
            {"id": n.pk} for n in (world.notification_a, world.notification_b)
        ],
        "/api/v1/programs/{id}/": [{"id": world.need_xp.program_id}],
        "/api/v1/donation-forms/{id}/": [{"id": world.need_xp.donation_form_id}],
        "/api/v1/areas/{id}/": [{"id": world.need_xp.area_id}],
        "/api/v1/sites/{id}/": [{"id": world.site_x.pk}],
        "/api/v1/collaborators/{id}/": [{"id": world.collaborator_a.pk}],
        "/api/v1/adoptions/{id}/": [{"id": a.pk} for a in api_adoptions(world).values()],
    }
    for prefix in ("commitments", "needs", "exports"):
        for suffix in ("transitions/", "deliveries/", "close/", "download/"):
            by_path[f"/api/v1/{prefix}/{{id}}/{suffix}"] = by_path[f"/api/v1/{prefix}/{{id}}/"]
    return by_path


def real_body_fields(world: ApiWorld) -> dict[tuple[str, str], dict[str, list]]:
    """Per operation, a valid body naming real rows (generated ids almost never do), sent
    besides the generated ones so that creates and changes reach the domain functions and
    not only the validation. Operations marked MERGE keep the generated fields too."""
    codes = [world.need_xp.area.code, world.need_yq.area.code]
    needs = [world.need_xp.pk, world.need_yq.pk]
    return {
        ("POST", "/api/v1/commitments/"): {
            "need": needs,
            "collaborator": [c.pk for c in (world.collaborator_a, world.collaborator_a2)]
            + [world.collaborator_b.pk],
            "quantity": [1, 2],
        },
        ("POST", "/api/v1/plans/"): {
            "collaborator": [c.pk for c in (world.collaborator_a, world.collaborator_b)],
            "lines": [
                [{"need": needs[0], "quantity": 1}],
                [{"need": needs[1], "quantity": 2}, {"need": needs[0], "quantity": 1}],
                [{"need": needs[0], "quantity": 10**6}],  # more than remains: a 409
            ],
        },
        ("POST", "/api/v1/needs/"): {
            "area": codes,
            "program": [world.need_xp.program_id],
            "donation_form": [world.need_xp.donation_form_id],
            "quantity_needed": [5],
            "valid_until": [today(30)],
        },
        ("PATCH", "/api/v1/needs/{id}/"): {"version": [1], "quantity_needed": [900]},
        ("POST", "/api/v1/needs/{id}/close/"): {"version": [1], "reason": ["Sudah terpenuhi"]},
        ("POST", "/api/v1/needs/reconfirm/"): {"area": codes},
        ("POST", "/api/v1/offline-commitments/"): {
            "collaborator": [world.collaborator_a.pk],
            "need": needs,
            "quantity": [1],
            "made_on": [today()],
        },
        ("POST", "/api/v1/exports/"): {
            "format": ["csv", "xlsx"],
            "program": ["pangan", "umkm", ""],
        },
        ("POST", "/api/v1/commitments/{id}/deliveries/"): {
            "quantity": [1],
            "delivered_on": [today()],
        },
    }


# Deliveries need proof files, which only generation provides.
MERGE = {"/api/v1/commitments/{id}/deliveries/"}


@pytest.fixture
def live_schema(world):
    with inside_test_transaction():
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", WSGIHandler())
    known = real_path_parameters(world)

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        if not path_parameters:
            return st.just(path_parameters)
        choices = [
            p for p in known.get(context.operation.path, []) if p.keys() == path_parameters.keys()
        ]
        return st.sampled_from([path_parameters, *choices])

    real_fields = real_body_fields(world)

    @schema.hook
    def flatmap_body(context, body):
        fields = real_fields.get((context.operation.method.upper(), context.operation.path))
        if not fields or not isinstance(body, dict):
            return st.just(body)
        real = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in fields.items()})
        if context.operation.path in MERGE:
            real = real.map(lambda values: {**body, **values})
        return st.one_of(st.just(body), real)

    return schema


def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 30, "the schema lost its operations"
    return found


def call_kwargs(world: ApiWorld, role: str) -> dict:
    credentials = world.credentials[role]
    # The WSGI test transport does not decode gzip (which need-state serves to clients
    # that take it), so this client asks for plain bodies.
    headers = {"Accept-Encoding": "identity", **credentials.headers}
    return {"headers": headers, "cookies": dict(credentials.cookies)}


def exercise(operation, kwargs: dict) -> set[int]:
    """Run the operation's generated cases; returns the status codes seen."""
    seen: set[int] = set()

    @SETTINGS
    @given(case=operation.as_strategy())
    def run(case):
        with inside_test_transaction():
            response = case.call_and_validate(checks=CHECKS, **kwargs)
        seen.add(response.status_code)

    run()
    return seen


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_within_its_schema(role, world, live_schema):
    kwargs = call_kwargs(world, role)
    failures = []
    answered = {}
    for operation in operations(live_schema):
        try:
            answered[operation.label] = exercise(operation, kwargs)
        except Exception as failure:  # noqa: BLE001 - each operation's failure is reported
            failures.append(f"--- {operation.label} as {role}:\n{failure}")
    assert not failures, "\n".join(failures)
    if role == ADMIN:
        # The real ids reach real rows: every read succeeds at least once (an
        # administrator has no notifications of their own).
        unread = {
            label
            for label, codes in answered.items()
            if label.startswith("GET ") and not any(200 <= c < 300 for c in codes)
        }
        assert unread == {"GET /api/v1/notifications/{id}/"}, answered


def test_the_schema_links_each_create_to_the_read_of_what_it_made(live_schema):
    paths = live_schema.raw_schema["paths"]
    for path, code, target in (
        ("/api/v1/commitments/", "201", "commitments_retrieve"),
        ("/api/v1/offline-commitments/", "201", "commitments_retrieve"),
        ("/api/v1/needs/", "201", "needs_retrieve"),
        ("/api/v1/exports/", "202", "exports_retrieve"),
    ):
        links = paths[path]["post"]["responses"][code]["links"]
        assert links["read"]["operationId"] == target, path


# Where what a create made is read: the create's path -> the read's path.
READS_AFTER_CREATE = {
    "/api/v1/commitments/": "/api/v1/commitments/{id}/",
    "/api/v1/offline-commitments/": "/api/v1/commitments/{id}/",
    "/api/v1/needs/": "/api/v1/needs/{id}/",
    "/api/v1/exports/": "/api/v1/exports/{id}/",
}


@pytest.mark.parametrize("role", [MEMBER_A, FACILITATOR_X])
def test_stateful_runs_follow_the_links(role, world, live_schema):
    kwargs = call_kwargs(world, role)
    created: set[tuple[str, int]] = set()
    followed: list[str] = []
    failures: list[str] = []
    # The operations that create and read what they made, and the steps in between.
    writes = live_schema.include(path_regex=r"^/api/v1/(needs|commitments|exports|offline-)")
    base = writes.as_state_machine()

    class Machine(base):
        def __init__(self):
            super().__init__()
            # Each example starts from the same database: what one example wrote (pledges
            # counted by the hoarding limits, needs, exports) would otherwise change what the
            # same steps answer in the next, and hypothesis reports that as inconsistent data
            # generation (FlakyStrategyDefinition) instead of testing.
            self._example = transaction.atomic()
            self._example.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self._example.__exit__(None, None, None)

        def call(self, case, **call_kwargs):
            # An exception is recorded and the step dropped, not raised: hypothesis would
            # replay the run and report only that the replay drew differently, hiding the
            # cause.
            try:
                with inside_test_transaction():
                    return case.call(**call_kwargs)
            except Exception as failure:  # noqa: BLE001 - reported below
                failures.append(f"{case.operation.label}: {failure!r}")
                hypothesis.reject()

        def get_call_kwargs(self, case):
            return kwargs

        def after_call(self, response, case):
            path = case.operation.path
            if response.status_code in (201, 202) and path in READS_AFTER_CREATE:
                try:
                    pk = response.json()["id"]
                except (ValueError, KeyError, TypeError) as failure:
                    failures.append(f"{case.operation.label}: no id in its answer: {failure!r}")
                    return
                created.add((READS_AFTER_CREATE[path], pk))
                # Whether the random walk also takes the link after it depends on the draw
                # (and the walk may send generated headers), so every creation is followed
                # here, in its example, by the read the link names, and must read as created.
                read = live_schema[READS_AFTER_CREATE[path]]["GET"].Case(path_parameters={"id": pk})
                with inside_test_transaction():
                    followed.append(
                        f"{READS_AFTER_CREATE[path]} "
                        f"{read.call_and_validate(checks=CHECKS, **kwargs).status_code}"
                    )

        def validate_response(self, response, case, additional_checks=None, **_kwargs):
            # Collected rather than raised: see call().
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)
            except Exception as failure:  # noqa: BLE001 - reported below
                failures.append(f"{case.operation.label}: {failure}")

    Machine.run(settings=STATEFUL_SETTINGS)
    assert not failures, "\n".join(failures)
    assert created, "the stateful run created nothing"
    assert all(step.endswith(" 200") for step in followed), followed
