"""The OpenAPI schema's shared parts: every operation documents its error responses as
RFC 9457 problem details (api.errors), so clients and schemathesis know their shape."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from .errors import PROBLEM_CONTENT_TYPE


class ProblemSerializer(serializers.Serializer):
    """An error body (application/problem+json)."""

    type = serializers.URLField(help_text="The kind of problem: a URI under /api/problems/.")
    title = serializers.CharField(help_text="A short summary of the kind of problem.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong this time.")
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Messages by field (or non_field_errors) when values were refused.",
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="Seconds to wait before trying again (429 only)."
    )

    class Meta:
        ref_name = "Problem"


# Any request may meet these: bad parameters, a bad token, a refused object, an Accept
# header no renderer serves, a throttle.
COMMON_ERRORS = ("400", "401", "403", "404", "406", "429")
BODY_ERRORS = ("415",)


class ProblemAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = list(COMMON_ERRORS)
        if self.method in ("POST", "PUT", "PATCH"):
            codes += BODY_ERRORS
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ProblemSerializer, code, media_types=[PROBLEM_CONTENT_TYPE]
                )
        for code, response in responses.items():
            content = response.get("content")
            if code >= "400" and content and PROBLEM_CONTENT_TYPE not in content:
                # Errors declared with a plain serializer are problem bodies all the same.
                response["content"] = {PROBLEM_CONTENT_TYPE: next(iter(content.values()))}
        if self.method == "GET":
            responses.setdefault(
                "304", {"description": "Not modified: the ETag sent in If-None-Match matches."}
            )
        return responses


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token created at /akun/token-api/ "
            "(`Authorization: Bearer <key>`; `Token <key>` works too).",
        }


# A create answered elsewhere than at its collection's {id}: an offline commitment is read
# as a commitment.
READ_AFTER_CREATE = {"/api/v1/offline-commitments/": "/api/v1/commitments/{id}/"}


def add_read_links(result, generator, request, public):
    """OpenAPI links from each create (201/202 with an `id`) to the read of what it made, so
    clients and stateful tests (schemathesis) can follow them (drf-spectacular emits none)."""
    paths = result.get("paths", {})
    for path, operations in paths.items():
        create = operations.get("post")
        read = paths.get(READ_AFTER_CREATE.get(path, path + "{id}/"), {}).get("get")
        if create is None or read is None or "operationId" not in read:
            continue
        for code in ("201", "202"):
            if code in create.get("responses", {}):
                create["responses"][code].setdefault("links", {})["read"] = {
                    "operationId": read["operationId"],
                    "parameters": {"path.id": "$response.body#/id"},
                    "description": "Read what was created.",
                }
    return result
