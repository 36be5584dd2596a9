from django import forms
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .admin_login import ThrottledAdminLoginForm
from .models import ConsentRecord, UpgradeCode, User

# The per-user history on the User admin page: apps above accounts (studio, gallery) register a
# provider from their own admin module: provider(user) -> {"links": [(model, query, count, label)],
# "sections": [(title, html list items)]}. Accounts stays the ground floor (issue 14).
HISTORY_PROVIDERS: list = []


def register_history(provider):
    HISTORY_PROVIDERS.append(provider)
    return provider


# /admin/login/ is throttled like the site login (per account and source address, shared counters).
admin.site.login_form = ThrottledAdminLoginForm


def _clean_email(form: forms.ModelForm) -> str:
    email = User.objects.normalize_email(form.cleaned_data.get("email") or "").lower()
    clash = User.objects.filter(email__iexact=email)
    if form.instance.pk:
        clash = clash.exclude(pk=form.instance.pk)
    if clash.exists():
        raise forms.ValidationError(_("A user with that email address already exists."))
    return email


class UserAddForm(AdminUserCreationForm):
    """Email-based user creation (the model has no username)."""

    class Meta:
        model = User
        fields = ("email", "plan", "is_partner")

    def clean_email(self) -> str:
        return _clean_email(self)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        return _clean_email(self)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserAddForm
    ordering = ("email",)
    list_display = ("email", "plan", "is_partner", "is_staff", "is_active", "date_joined")
    list_editable = ("plan",)
    list_filter = ("plan", "is_partner", "is_staff", "is_superuser", "is_active")
    search_fields = ("email",)
    readonly_fields = ("public_id", "last_login", "date_joined", "age_confirmed_at", "history")
    fieldsets = (
        (None, {"fields": ("email", "password", "public_id", "age_confirmed_at")}),
        (_("History"), {"fields": ("history",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (_("Plan"), {"fields": ("plan", "is_partner")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    actions = ["grant_premium", "set_standard"]

    # Deleting a user here (one, or the bulk action) is the same account deletion as the account page:
    # accounts.services.user_delete, which has the apps above remove jobs, uploads and result files
    # first (accounts.signals.user_deleting). Their jobs would otherwise block it (Job.consent PROTECT).
    def delete_model(self, request, obj) -> None:
        from .services import user_delete

        user_delete(user=obj)

    def delete_queryset(self, request, queryset) -> None:
        from .services import user_delete

        for user in list(queryset):
            user_delete(user=user)

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, _protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, perms_needed, []  # user_delete removes the jobs before the user

    @admin.action(description=_("Move the selected users to Premium"), permissions=["change"])
    def grant_premium(self, request, queryset):
        self._set_plan(request, queryset, User.Plan.PREMIUM)

    @admin.action(description=_("Move the selected users to Standard"), permissions=["change"])
    def set_standard(self, request, queryset):
        self._set_plan(request, queryset, User.Plan.STANDARD)

    def _set_plan(self, request, queryset, plan: str) -> None:
        from django.utils.translation import ngettext

        from .services import user_set_plan

        users = list(queryset.exclude(plan=plan))
        for user in users:
            user_set_plan(user=user, plan=plan)
            self.log_change(request, user, f"Plan set to {plan} by staff.")
        n = len(users)
        self.message_user(request, ngettext("%(n)d user moved to %(plan)s.", "%(n)d users moved to %(plan)s.", n)
                          % {"n": n, "plan": User.Plan(plan).label})

    @admin.display(description=_("history"))
    def history(self, obj):
        """Per-user history: counts with links to the filtered admin lists, and the latest items. The apps
        above accounts add their own parts (register_history); accounts never imports them."""
        if not obj or not obj.pk:
            return "—"

        def link(model, query: str, count: int, label):
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") + "?" + query
            return format_html('<a href="{}">{} {}</a>', url, count, label)

        lines, sections = [], []
        for provider in HISTORY_PROVIDERS:
            part = provider(obj)
            lines += [link(*item) for item in part.get("links", [])]
            sections += part.get("sections", [])
        lines += [
            link(ConsentRecord, f"user__id__exact={obj.pk}", obj.consents.count(), _("consent records")),
            link(
                LogEntry, f"object_id={obj.pk}&content_type__id__exact={_ct_id(User)}",
                LogEntry.objects.filter(content_type_id=_ct_id(User), object_id=str(obj.pk)).count(),
                _("staff actions on this account"),
            ),
        ]
        consents = format_html_join(
            "",
            "<li>{} · {} · {} · {}</li>",
            (
                (
                    c.terms_version, f"{timezone.localtime(c.created_at):%Y-%m-%d %H:%M:%S}", c.ip_address or "—",
                    _("Person B confirmed") if c.partner_confirmed else _("Person B not confirmed"),
                )
                for c in obj.consents.order_by("-created_at")[:10]
            ),
        )
        sections.append((_("Latest consent records"), consents))
        return format_html(
            '<ul class="lls-history">{}</ul>{}',
            format_html_join("", "<li>{}</li>", ((line,) for line in lines)),
            format_html_join("", '<p class="lls-history-title">{}</p><ul>{}</ul>', sections),
        )

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "plan", "is_partner", "usable_password", "password1", "password2"),
            },
        ),
    )


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """Audit trail of accepted upload terms: read-only."""

    list_display = ("user", "terms_version", "partner_confirmed", "ip_address", "created_at")
    list_filter = ("terms_version", "partner_confirmed")
    search_fields = ("user__email", "ip_address")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = ("user", "terms_version", "partner_confirmed", "ip_address", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _ct_id(model) -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(model).pk


@admin.register(LogEntry)
class StaffActionAdmin(admin.ModelAdmin):
    """Every staff action in the admin (built-in add/change/delete and our custom actions): read-only."""

    list_display = ("action_time", "user", "action_flag", "content_type", "object_repr", "change_message")
    list_filter = ("action_flag", "content_type")
    search_fields = ("object_repr", "change_message", "user__email", "object_id")
    date_hierarchy = "action_time"
    list_select_related = ("user", "content_type")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UpgradeCode)
class UpgradeCodeAdmin(admin.ModelAdmin):
    """Single-use plan codes for events and partners (redeemed on the plans page); no payment."""

    list_display = ("code", "plan", "expires_at", "used_by", "used_at", "note", "created_at")
    list_filter = ("plan", ("used_at", admin.EmptyFieldListFilter))
    search_fields = ("code", "note", "used_by__email")
    readonly_fields = ("used_by", "used_at", "created_at")
    fields = ("code", "plan", "expires_at", "note", "used_by", "used_at", "created_at")
