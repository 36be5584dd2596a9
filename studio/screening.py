"""The one screening hook every uploaded photo passes through before a job is created.

No reliable age or NSFW classifier runs offline here, so the default screener allows every photo:
the safeguards we do have are the sign-up age confirmation (14+, Korea's PIPA), the upload terms
with Person B's confirmation, admin-curated scenes only (users can never supply the target photo),
and user reports with an admin moderation queue.

To plug a classifier in, point ``settings.UPLOAD_SCREENER`` (env ``LLS_UPLOAD_SCREENER``) at a
callable ``screen(image: numpy.ndarray) -> ScreeningResult``; ``image`` is the decoded, upright,
EXIF-free BGR uint8 photo exactly as it is stored. It is called by the photo check
(``gpu_worker.checks``, on the worker's ``check`` queue, not in the web request) for each photo of
Person A and Person B after the face checks; a refused photo is shown on the job page as needing
another photo (code ``screened``) and the job is not queued until it is replaced. Never store the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class ScreeningResult:
    allowed: bool
    code: str = ""  # machine-readable reason, e.g. "minor", "explicit"
    message: str = ""  # a sentence for the uploader, in the active language

    @property
    def user_message(self) -> str:
        return self.message or _("This photo cannot be used. Please choose another photo.")


def allow_all(image: np.ndarray) -> ScreeningResult:
    """The default screener: no offline classifier is reliable enough, so nothing is refused here."""
    return ScreeningResult(allowed=True)


def screen_upload(image: np.ndarray) -> ScreeningResult:
    """Run the configured screener on one decoded photo."""
    screener = import_string(settings.UPLOAD_SCREENER)
    result = screener(image)
    if not isinstance(result, ScreeningResult):
        raise TypeError(f"{settings.UPLOAD_SCREENER} must return a ScreeningResult, not {type(result).__name__}")
    return result
