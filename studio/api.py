"""Partner REST API (token auth, partners only).

HackSoft styleguide shape: one APIView per action with nested InputSerializer / OutputSerializer;
reads through selectors, writes through services. Result images are served by token-authenticated
endpoints here, because the gallery views behind ``gallery:result-image`` use session auth."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services import consent_record_create
from gallery.files import serve_private
from gallery.selectors import concept_get, concept_list, result_get

from .models import Job
from .selectors import job_get, job_list, job_state
from .services import JobQuotaExceeded, job_create, job_quota_check

MAX_PHOTOS_PER_PERSON = 5


# --- shared pieces --------------------------------------------------------------------------------


class IsPartner(BasePermission):
    """Only accounts flagged ``is_partner`` may use the partner API (everyone else gets 403)."""

    message = gettext_lazy(
        "This API is only available to partner accounts. Please contact LoveLoveShot to enable partner access."
    )

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_partner", False))


class PartnerApi(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated, IsPartner]


class ApiPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100


class IgnoreAcceptNegotiation(BaseContentNegotiation):
    """File endpoints answer raw bytes whatever the client's Accept says; errors stay JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file part of a multipart request; documented as binary so Swagger UI shows a file picker
    (without COMPONENT_SPLIT_REQUEST spectacular would document a FileField as a URI)."""


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _errors(errors: dict, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"errors": errors}, status=code)


def _result_urls(request, public_id) -> dict:
    return {
        "url": request.build_absolute_uri(reverse("api:result-image", args=[public_id])),
        "thumb": request.build_absolute_uri(reverse("api:result-thumb", args=[public_id])),
    }


def job_payload(*, request, job: Job) -> dict:
    """job_state with the partner-facing (token-authenticated, absolute) result URLs."""
    state = job_state(job=job)
    return {
        "id": state["id"],
        "concept": job.concept.slug,
        "status": state["status"],
        "stage": state["stage"],
        "pct": state["pct"],
        "position": state["position"],
        "attempts": state["attempts"],
        "can_retry": state["can_retry"],
        "code": state["code"],
        "reason": state["reason"],
        "results": [
            {"id": r["id"], "width": r["width"], "height": r["height"], **_result_urls(request, r["id"])}
            for r in state["results"]
        ],
        "created_at": job.created_at,
    }


class JobOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Job"

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
    status = serializers.ChoiceField(choices=Job.Status.choices)
    stage = serializers.CharField(allow_blank=True, help_text="Current pipeline stage while running.")
    pct = serializers.IntegerField(min_value=0, max_value=100)
    position = serializers.IntegerField(allow_null=True, help_text="1-based place in line while queued.")
    attempts = serializers.IntegerField()
    can_retry = serializers.BooleanField()
    code = serializers.CharField(allow_null=True, help_text="Error code when failed.")
    reason = serializers.CharField(allow_null=True, help_text="Error sentence in the request's language.")
    results = ResultSerializer(many=True)
    created_at = serializers.DateTimeField()


ERRORS_SCHEMA = inline_serializer(
    name="ValidationErrors",
    fields={
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Field name → sentences in the request's language.",
        )
    },
)
DETAIL_SCHEMA = inline_serializer(name="ErrorDetail", fields={"detail": serializers.CharField()})
AUTH_RESPONSES = {
    401: OpenApiResponse(DETAIL_SCHEMA, description="Missing or invalid token."),
    403: OpenApiResponse(DETAIL_SCHEMA, description="The account is not a partner account."),
}


# --- concepts -------------------------------------------------------------------------------------


class ConceptListApi(PartnerApi):
    class OutputSerializer(serializers.Serializer):
        class SceneSerializer(serializers.Serializer):
            class Meta:
                ref_name = "Scene"

            id = serializers.UUIDField(source="public_id")
            title = serializers.CharField()
            thumb = serializers.SerializerMethodField()

            def get_thumb(self, scene) -> str:
                return self.context["request"].build_absolute_uri(
                    reverse("gallery:scene-thumb", args=[scene.public_id])
                )

        class Meta:
            ref_name = "Concept"

        slug = serializers.SlugField()
        name = serializers.CharField(help_text="Name in the request's language.")
        name_ko = serializers.CharField()
        name_en = serializers.CharField()
        description_ko = serializers.CharField()
        description_en = serializers.CharField()
        scenes = SceneSerializer(source="published_scenes", many=True)

    @extend_schema(
        operation_id="concepts_list",
        summary="Published concepts",
        responses={200: OutputSerializer(many=True), **AUTH_RESPONSES},
    )
    def get(self, request):
        concepts = concept_list()
        data = self.OutputSerializer(concepts, many=True, context={"request": request}).data
        return Response(data)


# --- jobs -----------------------------------------------------------------------------------------


class JobCreateApi(PartnerApi):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
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
        consent = serializers.BooleanField(
            help_text="Must be true: you confirm both people accepted the upload terms.",
        )
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

    @extend_schema(
        operation_id="jobs_create",
        summary="Create a couple-photo job",
        request={"multipart/form-data": InputSerializer},
        responses={
            201: JobOutputSerializer,
            400: OpenApiResponse(ERRORS_SCHEMA, description="Invalid input; per-field, per-file sentences."),
            **AUTH_RESPONSES,
        },
        examples=[
            OpenApiExample(
                "Rejected photo",
                value={"errors": {"photos_a": ["Person A · cat.txt: This file could not be read as a photo."]}},
                response_only=True,
                status_codes=["400"],
            )
        ],
    )
    def post(self, request):
        try:
            job_quota_check(user=request.user)
        except JobQuotaExceeded as exc:
            response = Response({"errors": {"non_field_errors": [exc.message]}, "code": "rate_limited"},
                                status=status.HTTP_429_TOO_MANY_REQUESTS)
            response["Retry-After"] = str(exc.retry_after)
            return response
        serializer = JobCreateApi.InputSerializer(data=request.data)
        if not serializer.is_valid():
            return _errors(serializer.errors)
        data = serializer.validated_data
        concept = concept_get(slug=data["concept"])
        if concept is None:
            return _errors({"concept": [_("This concept is not available. Please pick another one.")]})
        consent = consent_record_create(user=request.user, partner_confirmed=True, ip_address=_client_ip(request))
        try:
            job = job_create(
                user=request.user,
                concept=concept,
                photos_a=data["photos_a"],
                photos_b=data["photos_b"],
                consent=consent,
                source=Job.Source.API,
                swap_slots=data.get("swap_slots", False),
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            return _errors(errors)
        return Response(
            JobOutputSerializer(job_payload(request=request, job=job)).data, status=status.HTTP_201_CREATED
        )


class JobListApi(PartnerApi):
    @extend_schema(
        operation_id="jobs_list",
        summary="Your jobs, newest first",
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Page size (max 100)."),
            OpenApiParameter("offset", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Items to skip."),
        ],
        responses={
            200: inline_serializer(
                name="PaginatedJobList",
                fields={
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": JobOutputSerializer(many=True),
                },
            ),
            **AUTH_RESPONSES,
        },
    )
    def get(self, request):
        paginator = ApiPagination()
        page = paginator.paginate_queryset(job_list(user=request.user), request, view=self)
        data = [JobOutputSerializer(job_payload(request=request, job=job)).data for job in page]
        return paginator.get_paginated_response(data)


class JobCollectionApi(JobListApi, JobCreateApi):
    """``/jobs/``: GET is JobListApi.get, POST is JobCreateApi.post (one URL, two separate actions)."""


class JobDetailApi(PartnerApi):
    @extend_schema(
        operation_id="jobs_retrieve",
        summary="One job's state",
        responses={
            200: JobOutputSerializer,
            404: OpenApiResponse(DETAIL_SCHEMA, description="No such job among yours."),
            **AUTH_RESPONSES,
        },
    )
    def get(self, request, public_id):
        job = job_get(user=request.user, public_id=public_id)
        if job is None:
            raise Http404
        return Response(JobOutputSerializer(job_payload(request=request, job=job)).data)


# --- result files ---------------------------------------------------------------------------------


FILE_RESPONSES = {
    (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The JPEG."),
    404: OpenApiResponse(DETAIL_SCHEMA, description="No such result among yours."),
    **AUTH_RESPONSES,
}


def _serve_result(request, public_id, *, kind: str):
    result = result_get(user=request.user, public_id=public_id)
    if result is None:
        raise Http404
    return serve_private(result.thumbnail if kind == "thumb" else result.image)


class ResultImageApi(PartnerApi):
    content_negotiation_class = IgnoreAcceptNegotiation

    @extend_schema(operation_id="results_image", summary="Download a result (full-size JPEG)", responses=FILE_RESPONSES)
    def get(self, request, public_id):
        return _serve_result(request, public_id, kind="image")


class ResultThumbApi(PartnerApi):
    content_negotiation_class = IgnoreAcceptNegotiation

    @extend_schema(operation_id="results_thumb", summary="Download a result thumbnail (JPEG)", responses=FILE_RESPONSES)
    def get(self, request, public_id):
        return _serve_result(request, public_id, kind="thumb")
