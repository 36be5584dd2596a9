"""Studio's part of the partner API: jobs (create with Idempotency-Key, list, state, cancel, retry,
delete) and each job's results. Thin views: reads through selectors, writes through services;
every error is problem+json (loveloveshot/problems.py)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from redis.exceptions import RedisError
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from gallery.api import PAGE_PARAMETERS, PAGE_QUERY, RESULT_PAGE, base_url_of, paginated, result_urls, results_page
from gallery.selectors import concept_get, result_list
from loveloveshot import idempotency
from loveloveshot.partner_api import ApiPagination, PartnerApi, errors, problem
from loveloveshot.problems import ProblemException

from .messages import error_message
from .models import Job
from .selectors import job_get, job_list, job_state
from .services import job_cancel, job_create, job_delete, job_quota_check, job_retry

MAX_PHOTOS_PER_PERSON = 5
IDEMPOTENCY_SCOPE = "jobs"


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file part of a multipart request; documented as binary so Swagger UI shows a file picker."""


@extend_schema_field({"type": "boolean", "enum": [True]})
class ConsentField(serializers.BooleanField):
    """Documented as `true` only: a request without consent is not a valid request."""


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _photo_representation(photo) -> dict:
    code = getattr(photo, "reject_code", "") or None
    return {
        "person": photo.person,
        "index": photo.index,
        "name": getattr(photo, "name", "") or "",
        "verdict": getattr(photo, "verdict", "ok"),
        "code": code,
        "reason": str(error_message(code)) if code else None,
    }


def job_representation(*, job: Job, base_url: str) -> dict:
    """The job as the API and the webhooks show it (absolute, token-authenticated result URLs)."""
    state = job_state(job=job)
    return {
        "id": state["id"],
        "concept": job.concept.slug,
        "plan": job.plan,
        "status": state["status"],
        "stage": state["stage"],
        "pct": state["pct"],
        "position": state["position"],
        "attempts": state["attempts"],
        "can_retry": state["can_retry"],
        "can_cancel": job.can_cancel,
        "code": state["code"],
        "reason": state["reason"],
        "photos": [_photo_representation(p) for p in job.photos.all()],
        "notes": state["notes"],
        "results": [
            {"id": r["id"], "width": r["width"], "height": r["height"],
             **result_urls(base_url=base_url, public_id=r["id"])}
            for r in state["results"]
        ],
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


class JobOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Job"

    class PhotoSerializer(serializers.Serializer):
        class Meta:
            ref_name = "JobPhotoVerdict"

        person = serializers.ChoiceField(choices=["a", "b"])
        index = serializers.IntegerField(min_value=0)
        name = serializers.CharField(allow_blank=True, help_text="The uploaded file's name.")
        verdict = serializers.ChoiceField(
            choices=["pending", "ok", "rejected"],
            help_text="The photo check's verdict (checks run after the job is stored, while status is `checking`).",
        )
        code = serializers.CharField(allow_null=True, help_text="Why the photo was rejected (e.g. `no_face`).")
        reason = serializers.CharField(allow_null=True, help_text="The rejection as a sentence.")

    class NoteSerializer(serializers.Serializer):
        class Meta:
            ref_name = "JobNote"

        person = serializers.ChoiceField(choices=["a", "b"])
        code = serializers.CharField(help_text="`hair_over_brows` (the result keeps the scene's forehead and "
                                               "brows) or `multiple_faces_used` (the largest face was used).")
        text = serializers.CharField(help_text="The note as a sentence in the request's language.")

    class ResultSerializer(serializers.Serializer):
        class Meta:
            ref_name = "JobResult"

        id = serializers.UUIDField()
        url = serializers.URLField(help_text="Full-size JPEG (token auth).")
        thumb = serializers.URLField(help_text="Thumbnail JPEG (token auth).")
        width = serializers.IntegerField()
        height = serializers.IntegerField()

    id = serializers.UUIDField()
    concept = serializers.SlugField()
    plan = serializers.ChoiceField(choices=["standard", "premium"],
                                   help_text="The account's plan when the job was made (photo counts, visible label).")
    status = serializers.ChoiceField(choices=Job.Status.choices)
    stage = serializers.CharField(allow_blank=True, help_text="Current pipeline stage while running.")
    pct = serializers.IntegerField(min_value=0, max_value=100)
    position = serializers.IntegerField(allow_null=True, help_text="1-based place in line while queued.")
    attempts = serializers.IntegerField()
    can_retry = serializers.BooleanField()
    can_cancel = serializers.BooleanField()
    code = serializers.CharField(allow_null=True, help_text="Error code when failed.")
    reason = serializers.CharField(allow_null=True, help_text="Error sentence in the request's language.")
    photos = PhotoSerializer(many=True, help_text="The uploads still kept (deleted once the job ends).")
    notes = NoteSerializer(many=True, help_text="What the photo check noticed on accepted photos (not errors; "
                                                "kept after the uploads are deleted).")
    results = ResultSerializer(many=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def _job_response(request, job: Job, code: int = status.HTTP_200_OK) -> Response:
    data = JobOutputSerializer(job_representation(job=job, base_url=base_url_of(request))).data
    headers = {}
    if code == status.HTTP_201_CREATED:
        headers["Location"] = request.build_absolute_uri(reverse("api:job-detail", args=[job.public_id]))
    return Response(data, status=code, headers=headers)


def _own_job(request, public_id) -> Job:
    job = job_get(user=request.user, public_id=public_id)
    if job is None:
        raise Http404
    return job


class JobInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "JobCreateInput"

    concept = serializers.SlugField(help_text="Slug of a published concept (see /api/v1/concepts/).")
    photos_a = serializers.ListField(
        child=UploadField(),
        min_length=1,
        max_length=MAX_PHOTOS_PER_PERSON,
        help_text="Person A: 1 photo (standard plan) or 3..5 photos (premium). Repeat the field per file.",
    )
    photos_b = serializers.ListField(
        child=UploadField(),
        min_length=1,
        max_length=MAX_PHOTOS_PER_PERSON,
        help_text="Person B: same rules as photos_a.",
    )
    consent = ConsentField(help_text="Must be true: you confirm both people accepted the upload terms.")
    swap_slots = serializers.BooleanField(
        required=False, default=False,
        help_text="Put Person A into the scene's slot B and Person B into slot A.",
    )

    def validate_consent(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(
                _("Please confirm that both people accepted the upload terms (consent=true).")
            )
        return value


LOCATION_HEADER = OpenApiParameter("Location", OpenApiTypes.URI, OpenApiParameter.HEADER, response=[201],
                                   description="URL of the created job.")
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Any unique string (e.g. a UUID) per job you mean to create, at most 255 characters. "
    "Sending the same key with the same body again (a retry) answers the job made the first time "
    "(200) instead of making another; the same key with a different body is refused (409). Kept 24 h.",
)

JOB_CREATE_ERRORS = errors(
    400, 413,
    s409=problem("The Idempotency-Key was used with a different request, or that request is still running.",
                 ("idempotency_key_reused", "This Idempotency-Key was already used with a different request.",
                  {})),
    s429=problem(
        "A job quota (jobs at once, jobs per hour) or the request rate limit was reached; wait "
        "`Retry-After` seconds.",
        ("job_quota_exceeded", "You made 600 couple photos in the last hour, the most your plan allows. "
         "Please try again in 12 minutes.", {"retry_after": 720}),
        ("rate_limited", "Too many requests: at most 300 per minute. Retry in 12 seconds.",
         {"limit": 300, "retry_after": 12}),
    ),
)


def _fingerprint(request, data: dict) -> str:
    fields = {"concept": data["concept"], "consent": data["consent"], "swap_slots": data.get("swap_slots", False)}
    return idempotency.fingerprint(fields=fields, files={"photos_a": data["photos_a"], "photos_b": data["photos_b"]})


class JobCollectionApi(PartnerApi):
    """``/jobs/``: list (GET) and create (POST)."""

    parser_classes = [MultiPartParser, FormParser]
    query_params = PAGE_QUERY

    @extend_schema(
        operation_id="jobs_list",
        summary="Your jobs, newest first",
        description="Every job of your account, paginated with `limit`/`offset`.",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated("PaginatedJobList", JobOutputSerializer(many=True)), **errors(400)},
    )
    def get(self, request):
        paginator = ApiPagination()
        page = paginator.paginate_queryset(job_list(user=request.user), request, view=self)
        base = base_url_of(request)
        data = [JobOutputSerializer(job_representation(job=job, base_url=base)).data for job in page]
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="jobs_create",
        summary="Create a couple-photo job",
        description=(
            "Multipart upload of both people's photos. Your account's plan decides the photo counts "
            "(standard: exactly 1 per person; premium: 3 to 5) and the visible AI label (standard). "
            "The job is stored at once with status `checking`; each photo's check verdict appears in "
            "`photos`, then the job is `queued`, `running` and `done` (or `failed` with a `code` and "
            "`reason`). Follow it with webhooks (/api/v1/webhooks/) or the `Location` URL. "
            "Send an `Idempotency-Key` header to make retries safe."
        ),
        parameters=[IDEMPOTENCY_PARAMETER, LOCATION_HEADER],
        request={"multipart/form-data": JobInputSerializer},
        responses={
            201: OpenApiResponse(JobOutputSerializer, description="Created; `Location` names the job."),
            200: OpenApiResponse(JobOutputSerializer,
                                 description="The job an earlier request with the same Idempotency-Key made."),
            **JOB_CREATE_ERRORS,
        },
        examples=[
            OpenApiExample(
                "Rejected photo",
                value={"type": "urn:loveloveshot:problem:validation_error", "title": "Invalid input",
                       "status": 400, "code": "validation_error",
                       "detail": "Some fields are invalid; see errors for each field.",
                       "errors": {"photos_a": ["Person A · cat.txt: This file could not be read as a photo."]}},
                response_only=True,
                status_codes=["400"],
            )
        ],
    )
    def post(self, request):
        job_quota_check(user=request.user)  # JobQuotaExceeded → 429 + Retry-After (exception handler)
        serializer = JobInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 255:
            raise serializers.ValidationError({"Idempotency-Key": [_("At most 255 characters.")]})
        if not key:
            return _job_response(request, self._create(request, data), status.HTTP_201_CREATED)
        fp = _fingerprint(request, data)
        try:
            earlier = idempotency.claim(scope=IDEMPOTENCY_SCOPE, user_id=request.user.pk, key=key, fp=fp)
        except idempotency.IdempotencyConflict as exc:
            detail = (_("This Idempotency-Key was already used with a different request.")
                      if exc.code == "idempotency_key_reused"
                      else _("A request with this Idempotency-Key is still being processed. Retry in a moment."))
            raise ProblemException(exc.code, detail) from None
        if earlier is not None:
            job = job_get(user=request.user, public_id=earlier)
            if job is not None:
                return _job_response(request, job, status.HTTP_200_OK)
            # the earlier job was deleted since: this request makes a new one under the same key
            idempotency.release(scope=IDEMPOTENCY_SCOPE, user_id=request.user.pk, key=key)
            return self.post(request)
        try:
            job = self._create(request, data)
        except BaseException:
            try:
                idempotency.release(scope=IDEMPOTENCY_SCOPE, user_id=request.user.pk, key=key)
            except RedisError:
                pass
            raise
        idempotency.attach(scope=IDEMPOTENCY_SCOPE, user_id=request.user.pk, key=key, fp=fp,
                           object_id=str(job.public_id))
        return _job_response(request, job, status.HTTP_201_CREATED)

    @staticmethod
    def _create(request, data) -> Job:
        concept = concept_get(slug=data["concept"])
        if concept is None:
            message = _("This concept is not available. Please pick another one.")
            raise serializers.ValidationError({"concept": [message]})
        return job_create(
            user=request.user,
            concept=concept,
            photos_a=data["photos_a"],
            photos_b=data["photos_b"],
            partner_confirmed=True,
            ip_address=_client_ip(request),
            source=Job.Source.API,
            swap_slots=data.get("swap_slots", False),
        )


class JobDetailApi(PartnerApi):
    @extend_schema(
        operation_id="jobs_retrieve",
        summary="One job's state",
        description="Status, progress, place in line, photo verdicts and (when done) the results.",
        responses={200: JobOutputSerializer, **errors(404)},
    )
    def get(self, request, public_id):
        return _job_response(request, _own_job(request, public_id))

    @extend_schema(
        operation_id="jobs_destroy",
        summary="Delete a job",
        description="Deletes the job with its uploads and results (files included), cancelling it first "
        "when it is still going. Answers 204 with no body.",
        responses={204: OpenApiResponse(description="Deleted."), **errors(404)},
    )
    def delete(self, request, public_id):
        job_delete(job=_own_job(request, public_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


JOB_ACTION_ERRORS = errors(404, s409=problem(
    "The job is not in a state that allows this action.",
    ("job_not_cancellable", "This job has already ended.", {}),
    ("job_not_retryable", "This job can no longer be retried. Please start a new one.", {}),
))


class JobCancelApi(PartnerApi):
    @extend_schema(
        operation_id="jobs_cancel",
        summary="Cancel a job",
        description="A job that is checking, queued, running, or failed with a retry left is cancelled and "
        "its uploads are deleted at once (like the site's Cancel button).",
        request=None,
        responses={200: JobOutputSerializer, **JOB_ACTION_ERRORS},
    )
    def post(self, request, public_id):
        job = _own_job(request, public_id)
        try:
            job = job_cancel(job=job)
        except ValidationError as exc:
            raise ProblemException("job_not_cancellable", " ".join(exc.messages)) from None
        return _job_response(request, job)


class JobRetryApi(PartnerApi):
    @extend_schema(
        operation_id="jobs_retry",
        summary="Retry a failed job",
        description=f"A failed job with `can_retry` goes back in line with the same photos (at most "
        f"{settings.JOB_MAX_ATTEMPTS} attempts in all, like the site's Retry button).",
        request=None,
        responses={200: JobOutputSerializer, **JOB_ACTION_ERRORS},
    )
    def post(self, request, public_id):
        job = _own_job(request, public_id)
        try:
            job = job_retry(job=job)
        except ValidationError as exc:
            raise ProblemException("job_not_retryable", " ".join(exc.messages)) from None
        return _job_response(request, job)


class JobResultListApi(PartnerApi):
    query_params = PAGE_QUERY
    @extend_schema(
        operation_id="jobs_results_list",
        summary="One job's results",
        description="The finished photos of one of your jobs (empty until it is done).",
        parameters=PAGE_PARAMETERS,
        responses={200: RESULT_PAGE, **errors(400, 404)},
    )
    def get(self, request, public_id):
        job = _own_job(request, public_id)
        return results_page(self, request, result_list(user=request.user).filter(job=job).order_by("created_at"))
