from django.urls import path

from . import views

app_name = "studio"
urlpatterns = [
    path("new/", views.job_new, name="job-new"),
    path("jobs/", views.jobs, name="job-list"),
    path("jobs/<uuid:public_id>/", views.job_detail, name="job-detail"),
    path("jobs/<uuid:public_id>/status.json", views.job_status, name="job-status"),
    path("jobs/<uuid:public_id>/retry/", views.job_retry_view, name="job-retry"),
    path("jobs/<uuid:public_id>/cancel/", views.job_cancel_view, name="job-cancel"),
    path("jobs/<uuid:public_id>/delete/", views.job_delete_view, name="job-delete"),
    path("jobs/<uuid:public_id>/photos/<slug:slot>/", views.job_photo_replace_view, name="job-photo-replace"),
]
