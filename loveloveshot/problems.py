"""One error format for the partner API: RFC 9457 ``application/problem+json``.

Every error any /api/ view answers has the same shape::

    {"type": "urn:loveloveshot:problem:validation_error", "title": "Invalid input", "status": 400,
     "detail": "<a sentence in the request's language>", "code": "validation_error",
     "errors": {"photos_a": ["Person A · cat.txt: This file could not be read as a photo."]}}

``code`` is stable and machine-readable (the list is in docs/partner-guide.md and in the schema);
``title`` and ``detail`` are for people and follow Accept-Language (English when absent). 413 adds
``limit`` (bytes), 429 adds ``limit``/``retry_after`` and a ``Retry-After`` header.

``exception_handler`` is DRF's EXCEPTION_HANDLER for the whole project; ``problem_response`` builds
the same body for code outside DRF (e.g. a middleware refusing an oversize /api/ body early)."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rest_framework import exceptions, status

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:loveloveshot:problem:"

# code -> (HTTP status, title). Titles are short and stable; `detail` carries the specific sentence.
CODES: dict[str, tuple[int, str]] = {
    "validation_error": (400, "Invalid input"),
    "parse_error": (400, "Malformed request"),
    "too_many_fields": (400, "Too many form fields"),
    "not_authenticated": (401, "Authentication required"),
    "authentication_failed": (401, "Invalid token"),
    "not_partner": (403, "Partner access required"),
    "permission_denied": (403, "Permission denied"),
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "not_acceptable": (406, "Not acceptable"),
    "idempotency_key_reused": (409, "Idempotency key reused with a different request"),
    "idempotency_in_progress": (409, "A request with this idempotency key is still being processed"),
    "job_not_cancellable": (409, "The job can no longer be cancelled"),
    "job_not_retryable": (409, "The job can no longer be retried"),
    "request_too_large": (413, "Request too large"),
    "unsupported_media_type": (415, "Unsupported media type"),
    "job_quota_exceeded": (429, "Job quota exceeded"),
    "rate_limited": (429, "Too many requests"),
    "server_error": (500, "Internal server error"),
    "service_unavailable": (503, "Service temporarily unavailable"),
}


def problem_body(code: str, detail: str, *, status_code: int | None = None, **extra) -> dict:
    default_status, title = CODES.get(code, (status_code or 400, code.replace("_", " ").capitalize()))
    body = {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status_code or default_status,
        "detail": str(detail),
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(code: str, detail: str, *, status_code: int | None = None, headers=None, **extra):
    """A plain Django response with a problem body (for middleware and non-DRF views under /api/)."""
    body = problem_body(code, detail, status_code=status_code, **extra)
    response = JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE,
                            json_dumps_params={"ensure_ascii": False})
    for key, value in (headers or {}).items():
        response[key] = value
    return response


class ProblemException(exceptions.APIException):
    """Raise from a view to answer a specific problem (status and code from CODES)."""

    def __init__(self, code: str, detail: str, *, headers: dict | None = None, **extra):
        self.status_code = CODES[code][0]
        self.code = code
        self.extra = extra
        self.headers = headers or {}
        super().__init__(detail=detail, code=code)


class QuotaProblem(ProblemException):
    """429 with Retry-After (job quotas and the request rate limit)."""

    def __init__(self, code: str, detail: str, *, retry_after: int, limit: int | None = None, **extra):
        retry_after = max(1, int(retry_after))
        super().__init__(code, detail, headers={"Retry-After": str(retry_after)},
                         retry_after=retry_after, limit=limit, **extra)


def _flatten(detail) -> dict[str, list[str]] | list[str] | str:
    if isinstance(detail, dict):
        return {str(k): _flatten_list(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return _flatten_list(detail)
    return str(detail)


def _flatten_list(value) -> list[str]:
    if isinstance(value, dict):  # nested serializer: "field.sub"
        out = []
        for k, v in value.items():
            out += [f"{k}: {m}" for m in _flatten_list(v)]
        return out
    if isinstance(value, list):
        out = []
        for item in value:
            out += _flatten_list(item)
        return out
    return [str(value)]


def _from_api_exception(exc: exceptions.APIException):
    headers = {}
    if isinstance(exc, ProblemException):
        return exc.code, str(exc.detail), exc.extra, exc.headers, exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}
        first = next((msgs[0] for msgs in errors.values() if msgs), "")
        detail = _("Some fields are invalid; see errors for each field.")
        if list(errors) == ["non_field_errors"] and first:
            detail = first
        return "validation_error", detail, {"errors": errors}, headers, 400
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        return "rate_limited", str(exc.detail), {"retry_after": wait}, {"Retry-After": str(wait)}, 429
    mapping = {
        exceptions.NotAuthenticated: "not_authenticated",
        exceptions.AuthenticationFailed: "authentication_failed",
        exceptions.PermissionDenied: "permission_denied",
        exceptions.NotFound: "not_found",
        exceptions.MethodNotAllowed: "method_not_allowed",
        exceptions.NotAcceptable: "not_acceptable",
        exceptions.UnsupportedMediaType: "unsupported_media_type",
        exceptions.ParseError: "parse_error",
    }
    own = exc.get_codes()
    if isinstance(own, str) and own in CODES:
        code = own  # e.g. IsPartner's "not_partner"
    else:
        code = next((c for cls, c in mapping.items() if isinstance(exc, cls)), "error")
    return code, str(exc.detail), {}, headers, exc.status_code


def _is_quota_error(exc) -> bool:
    """studio.services.JobQuotaExceeded (or any quota refusal shaped like it: a ValidationError with
    code "rate_limited" and ``retry_after``), recognised without importing the apps from here."""
    return isinstance(exc, DjangoValidationError) and getattr(exc, "code", None) == "rate_limited" and hasattr(
        exc, "retry_after"
    )


def exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: every exception raised in an API view becomes a problem+json answer."""
    view = context.get("view")
    if _is_quota_error(exc):
        exc = QuotaProblem("job_quota_exceeded", exc.message, retry_after=exc.retry_after,
                           limit=getattr(exc, "limit", None))
    elif isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = ProblemException(
            "request_too_large",
            _("The form fields of this request are larger than %(mb)s MB. Send photos as file parts.")
            % {"mb": round(limit / 1024 / 1024, 1)},
            limit=limit,
        )
    elif isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        exc = ProblemException("too_many_fields",
                               _("This request has more than %(n)d form fields.") % {"n": limit}, limit=limit)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, RedisError):
        logger.warning("Redis unavailable in %s", type(view).__name__ if view else "an API view")
        exc = ProblemException("service_unavailable", _("We are busy right now. Please retry in a few seconds."),
                               headers={"Retry-After": "5"}, retry_after=5)
    elif not isinstance(exc, exceptions.APIException):
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "an API view", exc_info=exc)
        exc = ProblemException("server_error", _("Something went wrong on our side. Please try again later."))

    code, detail, extra, headers, status_code = _from_api_exception(exc)
    from rest_framework.response import Response

    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed) and view is not None:
        auth_header = view.get_authenticate_header(context["request"])
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        else:
            status_code = status.HTTP_403_FORBIDDEN
    body = problem_body(code, detail, status_code=status_code, **extra)
    response = Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    if context.get("request") is not None:
        # a file endpoint's renderer cannot write a dict: errors are always JSON
        from rest_framework.renderers import JSONRenderer

        request = context["request"]
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = PROBLEM_CONTENT_TYPE
    return response
