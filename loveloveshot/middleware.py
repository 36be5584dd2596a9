"""While Redis (queue / channel layer) is unreachable, answer with a clear "busy, retrying" page
instead of a 500. Jobs already stored stay safe in the database and are enqueued once Redis is back
(studio.services.jobs_recover)."""

import logging

from django.http import HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class RedisUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, RedisError):
            return None
        logger.warning("Redis unavailable while serving %s: %s", request.path, exception)
        message = _(
            "We are reconnecting to our studio. Your photos and jobs are safe; please try again in a few seconds."
        )
        if request.path.startswith("/api/") or request.headers.get("accept", "").startswith("application/json"):
            response = JsonResponse({"detail": message, "code": "busy"}, status=503)
        else:
            response = TemplateResponse(request, "503.html", {"message": message}, status=503)
            response.render()
        response["Retry-After"] = "5"
        return response


# --- Issue 13: request size, private caching, Content-Security-Policy --------------------------------

# One policy for every page (and deploy/nginx/loveloveshot.conf.in sends the same one): no inline
# script or style, no third-party origin; images may be data:/blob: (upload previews).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)


def _inline_hashes(package: str, tag: str) -> tuple[str, ...]:
    """CSP hashes of the static inline <script>/<style> blocks in a third-party app's templates
    (django-rq's dashboard initialises its action checkboxes inline and styles a few pages inline):
    allowed on that app's pages only, by hash, so no other inline code runs there either."""
    import base64
    import hashlib
    import importlib.util
    import re
    from pathlib import Path

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return ()
    hashes = set()
    for root in spec.submodule_search_locations:
        for template in Path(root, "templates").rglob("*.html"):
            for body in re.findall(rf"<{tag}(?![^>]*\bsrc=)[^>]*>(.*?)</{tag}>", template.read_text(), re.S):
                if "{%" not in body and "{{" not in body:  # a templated block renders differently: not allowed
                    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
                    hashes.add(f"'sha256-{digest}'")
    return tuple(sorted(hashes))


_RQ_HASHES: dict[str, str] = {}


def _policy_for(path: str, policy: str) -> str:
    """The site's policy; on the django-rq dashboard (/admin/rq/, staff only) plus the hashes of its own
    static inline scripts and styles."""
    if not path.startswith("/admin/rq/"):
        return policy
    if not _RQ_HASHES:
        _RQ_HASHES.update({tag: " ".join(_inline_hashes("django_rq", tag)) for tag in ("script", "style")})
    for tag in ("script", "style"):
        policy = policy.replace(f"{tag}-src 'self'", f"{tag}-src 'self' {_RQ_HASHES[tag]}".rstrip(), 1)
    return policy


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


class RequestSizeLimitMiddleware:
    """Refuse a body larger than settings.UPLOAD_MAX_REQUEST_BYTES from its Content-Length, before
    anything reads or parses it (first in MIDDLEWARE: CSRF would read request.POST). nginx refuses the
    same number at the edge (client_max_body_size, rendered by scripts/prod_nginx_conf.sh)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.UPLOAD_MAX_REQUEST_BYTES
        if length > limit:
            return self.too_large(request, limit)
        return self.get_response(request)

    @staticmethod
    def too_large(request, limit: int):
        # Runs before LocaleMiddleware and the session: pick the language here, answer without a template.
        api = request.path.startswith("/api/")
        if api:  # the partner API's rule: English unless Accept-Language asks for another language
            from .partner_api import api_language

            language = api_language(request)
        else:
            language = translation.get_language_from_request(request)
        with translation.override(language):
            message = _(
                "Your photos are too large to send at once (%(mib)d MB at most in total). "
                "Please choose smaller photos or fewer of them."
            ) % {"mib": limit // (1024 * 1024)}
            back = _("Back")
            language = translation.get_language()
        if api:  # the partner API's one error format (RFC 9457 problem+json, documented 413)
            from .problems import problem_response

            response = problem_response("request_too_large", message, limit=limit)
            response["Content-Language"] = language
        elif _wants_json(request):
            response = JsonResponse({"detail": message, "code": "request_too_large"}, status=413)
        else:
            response = HttpResponse(
                f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>413</title></head>'
                f'<body><p data-testid="too-large">{escape(message)}</p><p><a href="/">{escape(back)}</a></p>'
                "</body></html>",
                status=413,
                content_type="text/html; charset=utf-8",
            )
        response["Connection"] = "close"  # the unread body must not be taken for the next request
        return response


class SecurityHeadersMiddleware:
    """Content-Security-Policy on every response; ``Cache-Control: no-store`` on everything answered
    to a signed-in person (their pages, status.json, photos) so nothing private stays in a browser or
    proxy cache after it was deleted. Place it after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)
        # Social login buttons POST to allauth, which redirects to the provider: form-action must name
        # the configured providers' authorize origins (settings/social.py), or the browser stops there.
        social = getattr(settings, "SOCIAL_FORM_ACTION_ORIGINS", ())
        if social:
            policy = policy.replace("form-action 'self'", "form-action 'self' " + " ".join(social), 1)
        response.setdefault("Content-Security-Policy", _policy_for(request.path, policy))
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or getattr(response, "private_no_store", False):
            response["Cache-Control"] = "no-store"
            if "Expires" in response:
                del response["Expires"]
        return response


M_ARENA_MAX = -8  # glibc mallopt parameter


def _glibc_memory_setup():
    """Only the web process loads this module (through MIDDLEWARE). Cap glibc's per-thread heaps at 2
    (like MALLOC_ARENA_MAX=2, which would have to be set before the process starts) and return
    malloc_trim, or None when the C library is not glibc."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_ARENA_MAX, 2)
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


_malloc_trim = _glibc_memory_setup()


class ReleaseMemoryMiddleware:
    """After a request that carried a large body (an upload), hand the freed heap back to the system
    (glibc ``malloc_trim``). Uploads are decoded into big arrays in whichever thread serves the request;
    without this the web process keeps those pages mapped after every burst and its RSS only grows
    (issue 13 item 17). Together with at most 2 glibc heaps (mallopt above) and uploads spooled to disk
    over 1 MiB, the process returns to the same size after each burst (BENCHMARKS.md, burst section)."""

    THRESHOLD = 256 * 1024

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        try:
            large = int(request.META.get("CONTENT_LENGTH") or 0) >= self.THRESHOLD
        except ValueError:
            large = False
        if large and _malloc_trim is not None:
            response._resource_closers.append(lambda: _malloc_trim(0))  # once the body is sent and freed
        return response


class RequestSizeLimitASGI:
    """The same 413 one step earlier, around Django's ASGI handler (loveloveshot/asgi.py): a request
    whose Content-Length is over the limit is answered without ever calling ``receive``, so Django does
    not copy the body into its own buffer nor parse it. (daphne itself has received the body by then;
    nginx, in production, refuses it at the edge before reading it.)"""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            from django.conf import settings

            limit = settings.UPLOAD_MAX_REQUEST_BYTES
            length = dict(scope.get("headers") or []).get(b"content-length", b"")
            if length.isdigit() and int(length) > limit:
                await self._refuse(scope, send, limit)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope, send, limit: int) -> None:
        import io

        from asgiref.sync import sync_to_async
        from django.core.handlers.asgi import ASGIRequest

        def build():
            request = ASGIRequest(scope, io.BytesIO())
            return RequestSizeLimitMiddleware.too_large(request, limit)

        response = await sync_to_async(build, thread_sensitive=False)()
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.content})
