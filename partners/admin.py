from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .services import webhook_endpoint_set, webhook_redeliver, webhook_secret_rotate, webhook_url_validate


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", help_text=_("HTTPS URL of the receiver."))
    base_url = forms.URLField(max_length=200, assume_scheme="https", initial="http://127.0.0.1:8000/",
                              help_text=_("Absolute base of the API for result URLs in payloads."))

    class Meta:
        model = WebhookEndpoint
        fields = ("user", "url", "base_url", "is_active")

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            webhook_url_validate(url)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from exc
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("user", "url", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("user__email", "url")
    raw_id_fields = ("user",)
    readonly_fields = ("secret", "previous_secret_expires_at", "created_at", "updated_at")
    fields = ("user", "url", "base_url", "is_active", "secret", "previous_secret_expires_at", "created_at",
              "updated_at")
    actions = ["rotate_secret"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            endpoint, _created = webhook_endpoint_set(user=obj.user, url=obj.url, base_url=obj.base_url)
            obj.pk, obj.secret = endpoint.pk, endpoint.secret

    @admin.action(description=_("Rotate the signing secret (the old one stays valid for 24 h)"),
                  permissions=["change"])
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            webhook_secret_rotate(endpoint=endpoint)
        self.message_user(request, ngettext("%d secret rotated.", "%d secrets rotated.", queryset.count())
                          % queryset.count(), messages.SUCCESS)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("number", "created_at", "status_code", "error", "duration_ms", "response_snippet")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("public_id", "event", "endpoint", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status", "event")
    search_fields = ("public_id", "job_public_id", "endpoint__user__email")
    readonly_fields = ("public_id", "endpoint", "event", "job_public_id", "payload", "status", "attempts",
                       "last_status_code", "created_at", "delivered_at")
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Redeliver the selected events"), permissions=["change"])
    def redeliver(self, request, queryset):
        for delivery in queryset.select_related("endpoint"):
            webhook_redeliver(delivery=delivery)
        self.message_user(request, ngettext("%d event queued for redelivery.", "%d events queued for redelivery.",
                                            queryset.count()) % queryset.count(), messages.SUCCESS)
