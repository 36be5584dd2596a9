"""Property-based fuzzing of the partner API from its own OpenAPI schema (schemathesis) with every
check schemathesis has (server errors, status codes, content types, response headers and bodies
conform to the schema, negative data rejected, ...), plus an explicit case that reaches a valid job
creation with real JPEG photos. Bounded: a fixed number of examples per operation."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from tests.builders import build_concept, portrait_bytes

# A schema can promise the shape of a request, not that its photos show one face each or that a
# webhook host exists: a schema-valid job or webhook may still be refused with a 400 on meaning
# (and a job with 413). Everything else keeps schemathesis's defaults.
_SEMANTIC = ["2xx", "400", "401", "403", "404", "409", "413", "429"]
# The partner's token goes through schemathesis's own auth (the schema's `tokenAuth` scheme), not a
# header forced onto every call: a negative case that drops or breaks `Authorization` must reach the
# server without it (and get 401). Forcing the header back made such a case look like "invalid
# request accepted" (ST201 on GET /api/v1/results/, seen once in a full run).
FUZZ_TOKEN = "f0220000000000000000000000000000000f0220"
config = SchemathesisConfig.from_dict({
    "auth": {"openapi": {"tokenAuth": {"api_key": f"Token {FUZZ_TOKEN}"}}},
    "operations": [
        {"include-path": path, "include-method": "POST",
         "checks": {"positive_data_acceptance": {"expected-statuses": _SEMANTIC}}}
        for path in ("/api/v1/jobs/", "/api/v1/webhooks/")
    ],
})
# Per operation and generation phase; with derandomize the set is fixed, so more examples buy coverage,
# not luck.
MAX_EXAMPLES = 25
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)


@pytest.fixture
def partner_token(django_user_model, settings):
    # Like Django's test Client: the WSGI handler must not close the test's DB connection.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000  # the fuzzer is not a partner in a hurry
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    partner = django_user_model.objects.get_or_create(email="fuzz-partner@example.com",
                                                      defaults={"is_partner": True})[0]
    Token.objects.filter(user=partner).delete()
    yield Token.objects.create(user=partner, key=FUZZ_TOKEN).key
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
# Deterministic: the same examples on every run and every machine (derandomize, no example
# database), so a CI failure is a real regression that reproduces with the same command.
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_partner_api_conforms_to_its_schema(case, partner_token):
    """All checks: no 5xx, only documented status codes / content types / headers, bodies matching
    their schemas (problem+json for errors), invalid input rejected. Authorization comes from the
    schemathesis auth config (absent when the case negates it)."""
    response = case.call_and_validate()
    if response.request.headers.get("Authorization") == f"Token {FUZZ_TOKEN}":
        # the configured auth really reaches the API: a request carrying the token is never a 401
        assert response.status_code != 401, response.text


@pytest.mark.django_db
def test_valid_job_creation_conforms(partner_token):
    concept = build_concept()
    operation = schema["/api/v1/jobs/"]["POST"]
    case = operation.Case(
        body={
            "concept": concept.slug,
            "photos_a": [portrait_bytes("obama.jpg")],
            "photos_b": [portrait_bytes("grace_hopper.jpg")],
            "consent": True,
        },
        media_type="multipart/form-data",
        headers={"Idempotency-Key": "schemathesis-1"},
    )
    response = case.call_and_validate(headers={"Authorization": f"Token {partner_token}"})
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] == "checking" and job["concept"] == concept.slug
    # the retry with the same key answers the same job, also conforming
    again = case.call_and_validate(headers={"Authorization": f"Token {partner_token}"})
    assert again.status_code == 200 and again.json()["id"] == job["id"]
