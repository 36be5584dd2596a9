"""Partner REST API, mounted at /api/v1/ (namespace "api")."""

from django.urls import path

from . import api

app_name = "api"
urlpatterns = [
    path("concepts/", api.ConceptListApi.as_view(), name="concept-list"),
    path("jobs/", api.JobCollectionApi.as_view(), name="job-list"),
    path("jobs/<uuid:public_id>/", api.JobDetailApi.as_view(), name="job-detail"),
    path("results/<uuid:public_id>/image", api.ResultImageApi.as_view(), name="result-image"),
    path("results/<uuid:public_id>/thumb", api.ResultThumbApi.as_view(), name="result-thumb"),
]
