"""What every partner API view shares (each app keeps its own views: gallery/api.py, studio/api.py,
partners/api.py): token auth for partner accounts, the response language, the per-account request
rate limit with its ``RateLimit-*`` headers, pagination and the documented error responses."""

import time

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy
from django.utils.translation.trans_real import parse_accept_lang_header
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, inline_serializer
from redis.exceptions import RedisError
from rest_framework import exceptions, serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from .problems import CODES, PROBLEM_CONTENT_TYPE, TYPE_PREFIX, QuotaProblem

API_DEFAULT_LANGUAGE = "en"  # partners are developers; Korean with Accept-Language: ko


def api_language(request) -> str:
    """The language of human sentences: the best Accept-Language match, English when absent.
    (The site's cookie and Korean default do not apply to the API.)"""
    supported = {code for code, _name in settings.LANGUAGES}
    for code, _q in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        code = code.lower()
        for candidate in (code, code.split("-")[0]):
            if candidate in supported:
                return candidate
    return API_DEFAULT_LANGUAGE


class IsPartner(BasePermission):
    """Only accounts flagged ``is_partner`` may use the partner API (everyone else gets 403)."""

    code = "not_partner"
    message = gettext_lazy(
        "This API is only available to partner accounts. Please contact LoveLoveShot to enable partner access."
    )

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_partner", False))


# --- request rate limit ---------------------------------------------------------------------------


def rate_limit_per_minute() -> int:
    return int(getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 300))


def _rate_limit_take(ident: str) -> dict | None:
    """One request against a fixed one-minute window in the shared Redis (all web processes count
    together). None when Redis is unreachable: the API keeps answering, without limit headers."""
    import django_rq

    limit = rate_limit_per_minute()
    now = time.time()
    window = int(now // 60)
    key = f"lls:api-rate:{ident}:{window}"
    try:
        conn = django_rq.get_connection("swap")
        pipe = conn.pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        used = int(pipe.execute()[0])
    except RedisError:
        return None
    reset = max(1, int((window + 1) * 60 - now + 0.999))
    return {"limit": limit, "remaining": max(0, limit - used), "reset": reset, "over": used > limit}


RATE_LIMIT_HEADERS = [
    OpenApiParameter("RateLimit-Limit", OpenApiTypes.INT, OpenApiParameter.HEADER, response=True,
                     description="Requests allowed per minute for your account."),
    OpenApiParameter("RateLimit-Remaining", OpenApiTypes.INT, OpenApiParameter.HEADER, response=True,
                     description="Requests left in the current minute."),
    OpenApiParameter("RateLimit-Reset", OpenApiTypes.INT, OpenApiParameter.HEADER, response=True,
                     description="Seconds until the current window ends."),
    OpenApiParameter("Retry-After", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[429, 503],
                     description="Seconds to wait before retrying."),
]


class PartnerSchema(AutoSchema):
    """Every partner operation documents the rate-limit headers (and Retry-After on 429/503)."""

    def get_override_parameters(self):
        return [*super().get_override_parameters(), *RATE_LIMIT_HEADERS]


class ApiLanguageScope:
    """The API's language lasts for one request: the thread's previous language comes back afterwards.

    Views activate the API language in ``initial()``; without restoring it, a thread that later serves a
    site page, a websocket frame or a test would keep speaking the API's language (English by default)."""

    def dispatch(self, request, *args, **kwargs):
        previous = translation.get_language()
        try:
            response = super().dispatch(request, *args, **kwargs)
            if getattr(response, "render", None) is not None and not response.is_rendered:
                response.render()  # render while the request's language is active
            return response
        finally:
            if previous:
                translation.activate(previous)
            else:
                translation.deactivate()


class PartnerApi(ApiLanguageScope, APIView):
    schema = PartnerSchema()
    renderer_classes = [JSONRenderer]
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated, IsPartner]

    # Query parameters this view understands; any other one is refused (400), not silently ignored.
    query_params: frozenset[str] = frozenset()

    def initial(self, request, *args, **kwargs):
        language = api_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        self._rate = None
        try:
            user = request.user
        except exceptions.APIException:
            user = None
            self._rate = _rate_limit_take(f"ip:{request.META.get('REMOTE_ADDR', '')}")
            raise
        ident = f"user:{user.pk}" if user is not None and user.is_authenticated else (
            f"ip:{request.META.get('REMOTE_ADDR', '')}")
        self._rate = _rate_limit_take(ident)
        if self._rate and self._rate["over"]:
            raise QuotaProblem(
                "rate_limited",
                translation.gettext("Too many requests: at most %(n)d per minute. Retry in %(s)d seconds.")
                % {"n": self._rate["limit"], "s": self._rate["reset"]},
                retry_after=self._rate["reset"],
                limit=self._rate["limit"],
            )
        super().initial(request, *args, **kwargs)
        unknown = sorted(set(request.query_params) - self.query_params)
        if unknown:
            raise exceptions.ValidationError(
                {name[:40]: [translation.gettext("Unknown query parameter.")] for name in unknown[:10]}
            )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        rate = getattr(self, "_rate", None)
        if rate:
            response["RateLimit-Limit"] = str(rate["limit"])
            response["RateLimit-Remaining"] = str(rate["remaining"])
            response["RateLimit-Reset"] = str(rate["reset"])
            response["RateLimit-Policy"] = f'{rate["limit"]};w=60'
        response["Content-Language"] = getattr(request, "LANGUAGE_CODE", API_DEFAULT_LANGUAGE)
        return response


MAX_OFFSET = 1_000_000_000


class ApiPagination(LimitOffsetPagination):
    """limit 1..100 (default 20), offset >= 0; anything else is a 400, not silently ignored."""

    default_limit = 20
    max_limit = 100

    def _param(self, request, name: str, default: int, low: int, high: int | None) -> int:
        raw = request.query_params.getlist(name)
        if not raw:
            return default
        value = raw[-1]
        if len(raw) > 1 or not value.isdigit() or int(value) < low or (high is not None and int(value) > high):
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            raise exceptions.ValidationError(
                {name: [translation.gettext("Must be one whole number %(bounds)s.") % {"bounds": bounds}]}
            )
        return int(value)

    def get_limit(self, request):
        return self._param(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request):
        return self._param(request, self.offset_query_param, 0, 0, MAX_OFFSET)


class IgnoreAcceptNegotiation(BaseContentNegotiation):
    """File endpoints answer raw bytes whatever the client's Accept says; errors stay JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# --- schema pieces --------------------------------------------------------------------------------


PROBLEM = inline_serializer(
    name="Problem",
    fields={
        "type": serializers.CharField(help_text=f"URI naming the problem: {TYPE_PREFIX}<code>."),
        "title": serializers.CharField(help_text="Short summary of the problem type (English)."),
        "status": serializers.IntegerField(help_text="The HTTP status code."),
        "detail": serializers.CharField(help_text="A sentence for people, in the request's language."),
        "code": serializers.ChoiceField(choices=sorted(CODES), help_text="Stable, machine-readable error code."),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="validation_error only: field name → sentences in the request's language.",
        ),
        "limit": serializers.IntegerField(
            required=False, help_text="413: the size limit in bytes; 429: the limit that was reached."
        ),
        "retry_after": serializers.IntegerField(required=False, help_text="429/503: seconds to wait (as Retry-After)."),
    },
)


def _example(code: str, detail: str, **extra) -> OpenApiExample:
    status_code = CODES[code][0]
    value = {"type": TYPE_PREFIX + code, "title": CODES[code][1], "status": status_code, "detail": detail,
             "code": code, **extra}
    return OpenApiExample(code, value=value, response_only=True, status_codes=[str(status_code)])


RATE_HEADERS_DOC = (
    "Every response carries `RateLimit-Limit` (requests per minute), `RateLimit-Remaining` and "
    "`RateLimit-Reset` (seconds until the window resets)."
)


def problem(description: str, *codes_and_details) -> OpenApiResponse:
    examples = [_example(code, detail, **extra) for code, detail, extra in codes_and_details]
    return OpenApiResponse(PROBLEM, description=description, examples=examples)


COMMON_ERRORS = {
    400: problem("Malformed request or invalid input.",
                 ("validation_error", "Some fields are invalid; see errors for each field.",
                  {"errors": {"concept": ["This field is required."]}}),
                 ("too_many_fields", "This request has more than 1000 form fields.", {"limit": 1000})),
    401: problem("Missing or invalid token (`Authorization: Token <key>`).",
                 ("not_authenticated", "Authentication credentials were not provided.", {})),
    403: problem("The account is not a partner account.",
                 ("not_partner", "This API is only available to partner accounts.", {})),
    404: problem("No such object among yours.", ("not_found", "Not found.", {})),
    405: problem("Method not allowed on this URL.", ("method_not_allowed", 'Method "PUT" not allowed.', {})),
    406: problem("The Accept header asks for a format this endpoint cannot produce.",
                 ("not_acceptable", "Could not satisfy the request Accept header.", {})),
    413: problem("A form field is larger than the limit (bytes in `limit`).",
                 ("request_too_large", "The form fields of this request are larger than 5.0 MB.",
                  {"limit": 5242880})),
    415: problem("Unsupported request body type.",
                 ("unsupported_media_type", 'Unsupported media type "text/plain" in request.', {})),
    429: problem("Too many requests (per-minute limit); wait `Retry-After` seconds.",
                 ("rate_limited", "Too many requests: at most 300 per minute. Retry in 12 seconds.",
                  {"limit": 300, "retry_after": 12})),
    500: problem("Unexpected server error.", ("server_error", "Something went wrong on our side.", {})),
    503: problem("Redis is briefly unavailable; retry after `Retry-After` seconds.",
                 ("service_unavailable", "We are busy right now. Please retry in a few seconds.",
                  {"retry_after": 5})),
}


def errors(*statuses: int, **overrides) -> dict:
    """The documented problem responses of one operation (400: every view refuses unknown query
    parameters)."""
    out = {s: COMMON_ERRORS[s] for s in (400, 401, 403, 406, 429, 500, 503, *statuses)}
    out.update({int(k.lstrip("s")): v for k, v in overrides.items()})
    return {(s, PROBLEM_CONTENT_TYPE): v for s, v in sorted(out.items())}


BINARY = OpenApiTypes.BINARY
PROBLEM_MEDIA = PROBLEM_CONTENT_TYPE


class NotFoundApi(ApiLanguageScope, APIView):
    """Catch-all under /api/v1/: a problem+json 404 for any method (not in the schema)."""

    renderer_classes = [JSONRenderer]
    authentication_classes: list = []
    permission_classes: list = []
    schema = None

    def initial(self, request, *args, **kwargs):
        translation.activate(api_language(request))
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound(translation.gettext("Not found."))

    def get(self, request, *args, **kwargs):  # pragma: no cover - initial() always raises
        raise exceptions.NotFound()

    post = put = patch = delete = get
