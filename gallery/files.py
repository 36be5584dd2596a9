"""Streaming private files after a view checked who may see them (X-Accel-Redirect behind nginx)."""

import os

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse


def prune_empty_folder(storage, folder: str) -> None:
    """Remove a private folder once it is empty (e.g. ``uploads/<job>/`` after the uploads were purged),
    so no empty folders pile up. Object storage has no folders: nothing to do there."""
    try:
        path = storage.path(folder)
    except NotImplementedError:
        return
    try:
        os.rmdir(path)
    except OSError:  # not empty, or already gone
        pass


def serve_private(field, *, download_name: str | None = None, content_type: str = "image/jpeg"):
    if not field:
        raise Http404
    disposition = f'attachment; filename="{download_name}"' if download_name else "inline"
    prefix = settings.PRIVATE_MEDIA_ACCEL_PREFIX
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + field.name
    else:
        try:
            response = FileResponse(field.open("rb"), content_type=content_type)
        except FileNotFoundError as exc:
            raise Http404 from exc
    response["Content-Disposition"] = disposition
    # Never kept by a browser or proxy: a deleted (or revoked) photo must not stay viewable (issue 13).
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
