"""Property-based fuzzing of the partner API from its own OpenAPI schema (schemathesis): whatever
the inputs, no server errors and responses that match the schema's status codes."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def partner_token(django_user_model):
    # Like Django's test Client: the WSGI handler must not close the test's DB connection.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    partner = django_user_model.objects.get_or_create(email="fuzz-partner@example.com",
                                                      defaults={"is_partner": True})[0]
    yield Token.objects.get_or_create(user=partner)[0].key
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_partner_api_never_answers_5xx(case, partner_token):
    case.call_and_validate(headers={"Authorization": f"Token {partner_token}"}, checks=[not_a_server_error])
