"""While Redis (queue / channel layer) is unreachable, answer with a clear "busy, retrying" page
instead of a 500. Jobs already stored stay safe in the database and are enqueued once Redis is back
(studio.services.jobs_recover)."""

import logging

from django.http import JsonResponse
from django.template.response import TemplateResponse
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
