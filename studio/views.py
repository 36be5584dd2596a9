from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import terms_changed_since_last_consent
from accounts.services import consent_record_create
from gallery.selectors import concept_list

from .forms import JobForm
from .selectors import job_get, job_list, job_state
from .services import JobQuotaExceeded, job_cancel, job_create, job_delete, job_quota_check, job_retry


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


@login_required
def job_new(request):
    low, high = settings.PLAN_PHOTO_LIMITS[request.user.plan]
    if request.method == "POST":
        form = JobForm(request.POST, request.FILES)
        try:
            job_quota_check(user=request.user)
        except JobQuotaExceeded as exc:
            form = JobForm(initial={"concept": request.POST.get("concept")})
            messages.error(request, exc.message)
            status, retry_after = 429, exc.retry_after
        else:
            status, retry_after = 400, None
        if status == 400 and form.is_valid():
            data = form.cleaned_data
            consent = consent_record_create(
                user=request.user, partner_confirmed=data["partner_consent"], ip_address=_client_ip(request)
            )
            try:
                job = job_create(
                    user=request.user,
                    concept=data["concept"],
                    photos_a=data["photos_a"],
                    photos_b=data["photos_b"],
                    consent=consent,
                    swap_slots=data.get("swap_slots", False),
                )
            except JobQuotaExceeded as exc:  # lost the race with another submit: 429, not a 500
                form.add_error(None, exc.message)
                status, retry_after = 429, exc.retry_after
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                return redirect("studio:job-detail", public_id=job.public_id)
    else:
        form = JobForm(initial={"concept": request.GET.get("concept")})
    response = render(
        request,
        "studio/job_new.html",
        {
            "form": form,
            "concepts": concept_list(),
            "min_photos": low,
            "max_photos": high,
            "terms_version": settings.TERMS_VERSION,
            "terms_changed": terms_changed_since_last_consent(user=request.user),
        },
        status=status if request.method == "POST" else 200,
    )
    if request.method == "POST" and status == 429:
        response["Retry-After"] = str(retry_after)
    return response


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
