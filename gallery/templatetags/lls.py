"""Small template helpers for the LoveLoveShot site layout (front-end owned)."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_active(context, *names: str) -> str:
    """'is-active' when the current view matches one of `names`.

    A name is either a full view name ("studio:job-new") or a namespace followed by a colon
    ("gallery:") to match every view in it."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    view_name = match.view_name or ""
    for name in names:
        if name.endswith(":") and view_name.startswith(name):
            return "is-active"
        if view_name == name:
            return "is-active"
    return ""


@register.simple_tag
def upload_max_bytes() -> int:
    """The server's per-photo byte limit, for the client-side pre-check (the server stays authoritative)."""
    return int(getattr(settings, "UPLOAD_MAX_BYTES", 15 * 1024 * 1024))


@register.simple_tag
def upload_max_mb() -> int:
    return max(1, upload_max_bytes() // (1024 * 1024))
