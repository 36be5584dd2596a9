from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from gallery import views as gallery_views

urlpatterns = [
    path("", gallery_views.home, name="home"),
    path("", include("gallery.urls")),
    path("studio/", include("studio.urls")),
    path("terms/", account_views.terms, name="terms"),
    path("accounts/delete/", account_views.account_delete, name="account-delete"),
    path("", include("accounts.urls")),  # plans, privacy policy
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("studio.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI from drf-spectacular-sidecar (our /static/), its init script a separate same-origin request.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
