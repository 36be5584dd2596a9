from django.urls import path

from . import views

app_name = "gallery"
urlpatterns = [
    path("concepts/", views.concepts, name="concepts"),
    path("concepts/<slug:slug>/", views.concept_detail, name="concept-detail"),
    path("scenes/<uuid:public_id>/thumb.jpg", views.scene_image, {"kind": "thumb"}, name="scene-thumb"),
    path("scenes/<uuid:public_id>/image.jpg", views.scene_image, {"kind": "image"}, name="scene-image"),
    path("album/", views.album, name="album"),
    path("album/<uuid:public_id>/", views.result_detail, name="result-detail"),
    path("album/<uuid:public_id>/image.jpg", views.result_image, name="result-image"),
    path("album/<uuid:public_id>/thumb.jpg", views.result_thumb, name="result-thumb"),
    path("album/<uuid:public_id>/download/", views.result_download, name="result-download"),
    path("album/<uuid:public_id>/delete/", views.result_remove, name="result-delete"),
    path("album/<uuid:public_id>/report/", views.result_report, name="result-report"),
    path("album/<uuid:public_id>/share/", views.result_share_create, name="result-share"),
    path("share/<str:token>/revoke/", views.result_share_revoke, name="share-revoke"),
    path("s/<str:token>/", views.shared_result, name="shared"),
    path("s/<str:token>/image.jpg", views.shared_result_image, name="shared-image"),
    path("removal/", views.removal_request, name="removal-request"),
    path("removal/sent/", views.removal_request_sent, name="removal-request-sent"),
]
