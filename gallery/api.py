"""Gallery's part of the partner API: published concepts, the partner's results and their files.

Result images are served by token-authenticated endpoints here, because the gallery views behind
``gallery:result-image`` use session auth."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from loveloveshot.partner_api import ApiPagination, IgnoreAcceptNegotiation, PartnerApi, errors

from .files import serve_private
from .selectors import concept_list, result_get, result_list


def result_urls(*, base_url: str, public_id) -> dict:
    base = base_url.rstrip("/")
    return {
        "url": base + reverse("api:result-image", args=[public_id]),
        "thumb": base + reverse("api:result-thumb", args=[public_id]),
    }


def result_representation(*, result, base_url: str) -> dict:
    return {
        "id": str(result.public_id),
        "job": str(result.job.public_id),
        "concept": result.scene.concept.slug if result.scene_id else None,
        "scene": str(result.scene.public_id) if result.scene_id else None,
        "width": result.width,
        "height": result.height,
        **result_urls(base_url=base_url, public_id=result.public_id),
        "created_at": result.created_at,
    }


def base_url_of(request) -> str:
    return request.build_absolute_uri("/")


class ResultOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Result"

    id = serializers.UUIDField()
    job = serializers.UUIDField(help_text="The job that made it.")
    concept = serializers.SlugField(allow_null=True)
    scene = serializers.UUIDField(allow_null=True)
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    url = serializers.URLField(help_text="Full-size JPEG (token auth).")
    thumb = serializers.URLField(help_text="Thumbnail JPEG (token auth).")
    created_at = serializers.DateTimeField()


PAGE_PARAMETERS = [
    OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 100}, OpenApiParameter.QUERY,
                     description="Page size (1..100, default 20)."),
    OpenApiParameter("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000_000}, OpenApiParameter.QUERY,
                     description="Items to skip (default 0)."),
]


def paginated(name: str, item) -> object:
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item,
        },
    )


PAGE_QUERY = frozenset({"limit", "offset"})
RESULT_PAGE = paginated("PaginatedResultList", ResultOutputSerializer(many=True))


def results_page(view, request, queryset):
    paginator = ApiPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    base = base_url_of(request)
    data = [ResultOutputSerializer(result_representation(result=r, base_url=base)).data for r in page]
    return paginator.get_paginated_response(data)


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
        description="The concepts a job may use (`concept` = `slug`), each with its published scenes.",
        responses={200: OutputSerializer(many=True), **errors()},
    )
    def get(self, request):
        concepts = concept_list()
        return Response(self.OutputSerializer(concepts, many=True, context={"request": request}).data)


class ResultListApi(PartnerApi):
    query_params = PAGE_QUERY
    @extend_schema(
        operation_id="results_list",
        summary="Your results, newest first",
        description="Every finished photo of your jobs (hidden ones excluded), with token-authenticated "
        "download URLs.",
        parameters=PAGE_PARAMETERS,
        responses={200: RESULT_PAGE, **errors(400)},
    )
    def get(self, request):
        return results_page(self, request, result_list(user=request.user).order_by("-created_at", "variant"))


FILE_RESPONSES = {
    (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The JPEG."),
    **errors(404),
}


def _serve_result(request, public_id, *, kind: str):
    result = result_get(user=request.user, public_id=public_id)
    if result is None:
        raise Http404
    response = serve_private(result.thumbnail if kind == "thumb" else result.image)
    response["Cache-Control"] = "private, no-store"
    return response


class ResultImageApi(PartnerApi):
    content_negotiation_class = IgnoreAcceptNegotiation

    @extend_schema(operation_id="results_image", summary="Download a result (full-size JPEG)",
                   description="The finished photo as a JPEG (with its AI-provenance labels).",
                   responses=FILE_RESPONSES)
    def get(self, request, public_id):
        return _serve_result(request, public_id, kind="image")


class ResultThumbApi(PartnerApi):
    content_negotiation_class = IgnoreAcceptNegotiation

    @extend_schema(operation_id="results_thumb", summary="Download a result thumbnail (JPEG)",
                   description="A small JPEG of the finished photo.", responses=FILE_RESPONSES)
    def get(self, request, public_id):
        return _serve_result(request, public_id, kind="thumb")
