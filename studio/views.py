from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import terms_changed_since_last_consent
from gallery.selectors import concept_list

from .forms import JobForm
from .selectors import job_get, job_list, job_state, job_typical_seconds
from .services import (
    JobQuotaExceeded,
    job_cancel,
    job_create,
    job_delete,
    job_photo_replace,
    job_quota_check,
    job_retry,
)


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _wants_json(request) -> bool:
    """The form's script submits with fetch() (so the browser keeps the chosen photos when one is
    refused) and asks for JSON; without JS the same view answers with the re-rendered page."""
    return "application/json" in request.headers.get("Accept", "")


def _error_items(form: JobForm) -> list[dict]:
    if not form.is_bound:
        return []
    return [
        {"field": field if field != "__all__" else None, "index": None, "message": str(error)}
        for field, errors in form.errors.items()
        for error in errors
    ]


def _file_errors(form: JobForm, exc: ValidationError) -> list[dict]:
    """job_create's per-field errors onto the form; per-file ones (params field/index) also kept
    apart, so the page can mark the very file that was refused."""
    items = []
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return items
    for field, errors in exc.error_dict.items():
        for error in errors:
            message = next(iter(error)) if isinstance(error, ValidationError) else str(error)
            params = getattr(error, "params", None) or {}
            if "index" in params:
                items.append({"field": field, "index": params["index"], "message": message})
            form.add_error(field if field in form.fields else None, message)
    return items


@login_required
def job_new(request):
    low, high = settings.PLAN_PHOTO_LIMITS[request.user.plan]
    status, retry_after, file_errors, alert = 200, None, [], None
    if request.method == "POST":
        status = 400
        form = JobForm(request.POST, request.FILES)
        try:
            job_quota_check(user=request.user)
        except JobQuotaExceeded as exc:
            form = JobForm(initial={"concept": request.POST.get("concept")})
            alert = exc.message
            status, retry_after = 429, exc.retry_after
        if status == 400 and form.is_valid():
            data = form.cleaned_data
            try:
                # The consent record is written by job_create with the job, in one transaction.
                job = job_create(
                    user=request.user,
                    concept=data["concept"],
                    photos_a=data["photos_a"],
                    photos_b=data["photos_b"],
                    partner_confirmed=data["partner_consent"],
                    ip_address=_client_ip(request),
                    swap_slots=data.get("swap_slots", False),
                )
            except JobQuotaExceeded as exc:  # lost the race with another submit: 429, not a 500
                form.add_error(None, exc.message)
                status, retry_after = 429, exc.retry_after
            except ValidationError as exc:
                file_errors = _file_errors(form, exc)
            else:
                url = reverse("studio:job-detail", kwargs={"public_id": job.public_id})
                if _wants_json(request):
                    return JsonResponse({"redirect": url}, status=201)
                return redirect(url)
        if _wants_json(request):
            # per-file errors are also on the form: send each once, with its file's index
            seen = {(e["field"], e["message"]) for e in file_errors}
            payload = [e for e in _error_items(form) if (e["field"], e["message"]) not in seen] + file_errors
            if alert:
                payload.insert(0, {"field": None, "index": None, "message": alert})
            response = JsonResponse({"errors": payload, "status": status}, status=status)
            if retry_after is not None:
                response["Retry-After"] = str(retry_after)
            return response
    else:
        form = JobForm(initial={"concept": request.GET.get("concept")})
    response = render(
        request,
        "studio/job_new.html",
        {
            "form": form,
            "alert": alert,
            "concepts": concept_list(),
            "min_photos": low,
            "max_photos": high,
            "min_side": settings.UPLOAD_MIN_SIDE,
            "typical_seconds": job_typical_seconds_rounded(),
            "terms_version": settings.TERMS_VERSION,
            "terms_changed": terms_changed_since_last_consent(user=request.user),
        },
        status=status,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def job_typical_seconds_rounded() -> int:
    """The measured typical run time, rounded up to 5 s, for the form's "usually about N seconds"."""
    seconds = job_typical_seconds()
    return max(5, -(-seconds // 5) * 5)


@login_required
def jobs(request):
    return render(request, "studio/job_list.html", {"jobs": job_list(user=request.user)[:50]})


def _own_job(request, public_id):
    job = job_get(user=request.user, public_id=public_id)
    if job is None:
        raise Http404
    return job


@login_required
def job_detail(request, public_id):
    job = _own_job(request, public_id)
    return render(request, "studio/job_detail.html", {"job": job, "state": job_state(job=job)})


@login_required
def job_status(request, public_id):
    """Polling fallback for the websocket: the same state the socket sends first."""
    job = _own_job(request, public_id)
    response = JsonResponse({"type": "state", **job_state(job=job)})
    response["Cache-Control"] = "no-store"
    return response


def _job_action(request, public_id, action, success: str):
    job = _own_job(request, public_id)
    try:
        action(job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("studio:job-detail", public_id=job.public_id)


@login_required
@require_POST
def job_retry_view(request, public_id):
    return _job_action(request, public_id, job_retry, _("Your job is back in the queue."))


@login_required
@require_POST
def job_cancel_view(request, public_id):
    return _job_action(
        request, public_id, job_cancel, _("The job was cancelled and your uploaded photos were deleted.")
    )


@login_required
@require_POST
def job_delete_view(request, public_id):
    job_delete(job=_own_job(request, public_id))
    messages.success(request, _("The job and its photos were deleted."))
    return redirect("studio:job-list")


@login_required
@require_POST
def job_photo_replace_view(request, public_id, slot):
    """Replace one photo the check rejected, on the job page; only that photo is checked again."""
    job = _own_job(request, public_id)
    upload = request.FILES.get("photo")
    try:
        if upload is None:
            raise ValidationError(_("Please choose a photo."))
        job_photo_replace(job=job, slot=slot, upload=upload)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        if _wants_json(request):
            return JsonResponse({"errors": [{"field": "photo", "index": None, "message": message}]}, status=400)
        messages.error(request, message)
    else:
        if _wants_json(request):
            return JsonResponse({"ok": True})
        messages.success(request, _("Thank you! We are checking the new photo."))
    return redirect("studio:job-detail", public_id=job.public_id)
