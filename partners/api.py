"""Partners' part of the API: the account's webhook endpoint (one per partner), secret rotation and
the delivery log. Protocol: docs/partner-guide.md."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from gallery.api import PAGE_PARAMETERS, PAGE_QUERY, paginated
from loveloveshot.partner_api import ApiPagination, PartnerApi, errors

from .selectors import webhook_delivery_list, webhook_endpoint_get
from .services import webhook_endpoint_delete, webhook_endpoint_set, webhook_secret_rotate


class EndpointSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WebhookEndpoint"

    url = serializers.URLField()
    secret = serializers.CharField(help_text="Signs every delivery (HMAC-SHA256); keep it private.")
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="After a rotation the old secret also signs until then."
    )
    is_active = serializers.BooleanField()
    events = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()


EVENTS = ["job.checking", "job.queued", "job.running", "job.done", "job.failed", "job.cancelled"]


def _endpoint_data(endpoint) -> dict:
    return {
        "url": endpoint.url,
        "secret": endpoint.secret,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at if endpoint.previous_secret else None,
        "is_active": endpoint.is_active,
        "events": EVENTS,
        "created_at": endpoint.created_at,
    }


def _own_endpoint(request):
    endpoint = webhook_endpoint_get(user=request.user)
    if endpoint is None:
        raise Http404
    return endpoint


class WebhookEndpointApi(PartnerApi):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WebhookEndpointInput"

        url = serializers.URLField(
            max_length=500, help_text="HTTPS URL that receives a signed POST for every job state change."
        )

    @extend_schema(operation_id="webhooks_retrieve", summary="Your webhook endpoint",
                   description="The registered URL and its signing secret (404 when none is registered).",
                   responses={200: EndpointSerializer, **errors(404)})
    def get(self, request):
        return Response(EndpointSerializer(_endpoint_data(_own_endpoint(request))).data)

    @extend_schema(
        operation_id="webhooks_set",
        summary="Register or change your webhook endpoint",
        description="One endpoint per account. The first registration creates a signing secret (201 with "
        "`Location`); changing the URL keeps the secret (200). Every job state change of your account is "
        "then POSTed there, signed (`LoveLoveShot-Signature`), retried with exponential backoff.",
        request=InputSerializer,
        responses={201: EndpointSerializer, 200: EndpointSerializer, **errors(400, 413)},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, created = webhook_endpoint_set(
            user=request.user, url=serializer.validated_data["url"], base_url=request.build_absolute_uri("/")
        )
        headers = {"Location": request.build_absolute_uri(reverse("api:webhook"))} if created else {}
        return Response(EndpointSerializer(_endpoint_data(endpoint)).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK, headers=headers)

    @extend_schema(operation_id="webhooks_destroy", summary="Remove your webhook endpoint",
                   description="No more deliveries; the delivery log is deleted with it.",
                   responses={204: OpenApiResponse(description="Removed."), **errors(404)})
    def delete(self, request):
        if not webhook_endpoint_delete(user=request.user):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateApi(PartnerApi):
    @extend_schema(
        operation_id="webhooks_rotate_secret",
        summary="Rotate the signing secret",
        description="A new secret signs from now on; for 24 hours every delivery carries a second `v1=` "
        "signature made with the previous secret, so your receiver can switch without losing events.",
        request=None,
        responses={200: EndpointSerializer, **errors(404)},
    )
    def post(self, request):
        endpoint = webhook_secret_rotate(endpoint=_own_endpoint(request))
        return Response(EndpointSerializer(_endpoint_data(endpoint)).data)


class DeliverySerializer(serializers.Serializer):
    class Meta:
        ref_name = "WebhookDelivery"

    id = serializers.UUIDField(source="public_id", help_text="The event id (`id` in the body).")
    event = serializers.CharField()
    job = serializers.UUIDField(source="job_public_id", allow_null=True)
    status = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class WebhookDeliveryListApi(PartnerApi):
    query_params = PAGE_QUERY
    @extend_schema(operation_id="webhooks_deliveries_list", summary="Recent webhook deliveries",
                   description="The delivery log of your endpoint, newest first.",
                   parameters=PAGE_PARAMETERS,
                   responses={200: paginated("PaginatedWebhookDeliveryList", DeliverySerializer(many=True)),
                              **errors(400)})
    def get(self, request):
        paginator = ApiPagination()
        page = paginator.paginate_queryset(webhook_delivery_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(DeliverySerializer(page, many=True).data)
