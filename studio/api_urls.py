"""Partner REST API, mounted at /api/v1/ (namespace "api"). Each app owns its views: gallery/api.py
(concepts, results, files), studio/api.py (jobs), partners/api.py (webhooks)."""

from django.urls import path, re_path

from gallery import api as gallery_api
from loveloveshot.partner_api import NotFoundApi
from partners import api as partners_api

from . import api

app_name = "api"
urlpatterns = [
    path("concepts/", gallery_api.ConceptListApi.as_view(), name="concept-list"),
    path("jobs/", api.JobCollectionApi.as_view(), name="job-list"),
    path("jobs/<uuid:public_id>/", api.JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<uuid:public_id>/cancel/", api.JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<uuid:public_id>/retry/", api.JobRetryApi.as_view(), name="job-retry"),
    path("jobs/<uuid:public_id>/results/", api.JobResultListApi.as_view(), name="job-results"),
    path("results/", gallery_api.ResultListApi.as_view(), name="result-list"),
    path("results/<uuid:public_id>/image", gallery_api.ResultImageApi.as_view(), name="result-image"),
    path("results/<uuid:public_id>/thumb", gallery_api.ResultThumbApi.as_view(), name="result-thumb"),
    path("webhooks/", partners_api.WebhookEndpointApi.as_view(), name="webhook"),
    path("webhooks/rotate-secret/", partners_api.WebhookRotateApi.as_view(), name="webhook-rotate"),
    path("webhooks/deliveries/", partners_api.WebhookDeliveryListApi.as_view(), name="webhook-deliveries"),
    # anything else under /api/v1/ is a problem+json 404, not the site's HTML page
    re_path(r"^.*$", NotFoundApi.as_view(), name="not-found"),
]
