from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Job, JobPhoto
from .services import job_retry

# The admin index gets a "Queue dashboard" link to django-rq's dashboard (/admin/rq/). django-rq 4.x
# registers its own "Django-RQ" entry (/admin/django_rq/dashboard/), but only users holding the
# django_rq.admin permission (superusers) see it; every staff member may open /admin/rq/.
# The template lives in gallery/templates/admin/; it cannot be called admin/index.html there because
# django.contrib.admin comes before gallery in INSTALLED_APPS and its own index.html would win.
admin.site.index_template = "admin/lls_index.html"


class JobPhotoInline(admin.TabularInline):
    """Which uploads a job still holds; never links to the private files themselves."""

    model = JobPhoto
    extra = 0
    can_delete = False
    fields = ("person", "index", "stored", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("stored"), boolean=True)
    def stored(self, obj) -> bool:
        return bool(obj.file)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "public_id",
        "user",
        "concept",
        "status",
        "stage",
        "progress_pct",
        "attempts",
        "error_code",
        "created_at",
    )
    list_filter = ("status", "plan", "source", "concept")
    list_select_related = ("user", "concept")
    search_fields = ("public_id", "user__email", "error_code")
    date_hierarchy = "created_at"
    inlines = [JobPhotoInline]
    actions = ["retry_failed"]
    fieldsets = (
        (None, {"fields": ("public_id", "user", "concept", "consent", "plan", "source", "language")}),
        (_("State"), {"fields": ("status", "stage", "progress", "attempts", "error_code", "error_message")}),
        (_("Times"), {"fields": ("queued_at", "started_at", "finished_at", "created_at", "updated_at")}),
    )
    readonly_fields = tuple(f for _title, spec in fieldsets for f in spec["fields"])

    def has_add_permission(self, request) -> bool:
        return False  # jobs come from the studio or the partner API (studio.services.job_create)

    @admin.display(description=_("progress"), ordering="progress")
    def progress_pct(self, obj) -> str:
        return f"{obj.progress}%"

    @admin.action(description=_("Retry failed jobs"), permissions=["change"])
    def retry_failed(self, request, queryset):
        retried, refused = [], []
        for job in queryset.order_by("created_at"):
            try:
                job_retry(job=job)
            except ValidationError as exc:
                refused.append(f"{job.public_id} ({job.get_status_display()}): {' '.join(exc.messages)}")
            else:
                retried.append(job)
                self.log_change(request, job, "Retried from the admin.")
        if retried:
            self.message_user(
                request,
                ngettext("%d job is back in the queue.", "%d jobs are back in the queue.", len(retried))
                % len(retried),
                messages.SUCCESS,
            )
        for line in refused:
            self.message_user(request, _("Not retried: %(job)s") % {"job": line}, messages.WARNING)
