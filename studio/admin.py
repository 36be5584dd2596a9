from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import register_history
from gallery.models import Result

from .models import Job, JobPhoto
from .services import job_retry

# The admin index gets a "Queue dashboard" link to django-rq's dashboard (/admin/rq/). django-rq 4.x
# registers its own "Django-RQ" entry (/admin/django_rq/dashboard/), but only users holding the
# django_rq.admin permission (superusers) see it; every staff member may open /admin/rq/.
# The template lives in studio/templates/admin/; it cannot be called admin/index.html there because
# django.contrib.admin comes before studio in INSTALLED_APPS and its own index.html would win.
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


def _to_the_second(dt) -> str:
    """Admin times in the site's time zone (KST) to the second, like every other admin time."""
    from django.utils import timezone

    return f"{timezone.localtime(dt):%Y-%m-%d %H:%M:%S %Z}" if dt else "—"


class JobResultInline(admin.TabularInline):
    """The job's finished photos, with thumbnails streamed through the staff-only result preview."""

    model = Result
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("thumb", "scene", "variant", "is_hidden", "created")
    readonly_fields = fields
    verbose_name = _("result")
    verbose_name_plural = _("results")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("photo"))
    def thumb(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        url = reverse("admin:gallery_result_preview", args=[obj.public_id, "thumb"])
        return format_html('<img class="lls-thumb" src="{}" alt="">', url)

    @admin.display(description=_("created"))
    def created(self, obj) -> str:
        return _to_the_second(obj.created_at)


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
        "created_s",
    )
    list_filter = ("status", "plan", "source", "concept")
    list_select_related = ("user", "concept")
    search_fields = ("public_id", "user__email", "error_code")
    date_hierarchy = "created_at"
    inlines = [JobPhotoInline, JobResultInline]
    actions = ["retry_failed"]
    fieldsets = (
        (None, {"fields": ("public_id", "user", "concept", "consent", "plan", "source", "language")}),
        (_("State"), {"fields": ("status", "stage", "progress", "attempts", "error_code", "error_message")}),
        (_("Times"), {"fields": ("queued_s", "started_s", "finished_s", "created_s", "updated_s")}),
    )
    readonly_fields = tuple(f for _title, spec in fieldsets for f in spec["fields"])

    def has_add_permission(self, request) -> bool:
        return False  # jobs come from the studio or the partner API (studio.services.job_create)

    # Admin deletes (one, or the bulk action) go through the service that takes the job off the queue
    # and removes its uploads, results and thumbnails.
    def delete_model(self, request, obj) -> None:
        from .services import job_delete

        job_delete(job=obj)

    def delete_queryset(self, request, queryset) -> None:
        from .services import job_delete

        for job in list(queryset):
            job_delete(job=job)

    @admin.display(description=_("queued at"), ordering="queued_at")
    def queued_s(self, obj) -> str:
        return _to_the_second(obj.queued_at)

    @admin.display(description=_("started at"), ordering="started_at")
    def started_s(self, obj) -> str:
        return _to_the_second(obj.started_at)

    @admin.display(description=_("finished at"), ordering="finished_at")
    def finished_s(self, obj) -> str:
        return _to_the_second(obj.finished_at)

    @admin.display(description=_("created at"), ordering="created_at")
    def created_s(self, obj) -> str:
        return _to_the_second(obj.created_at)

    @admin.display(description=_("updated at"), ordering="updated_at")
    def updated_s(self, obj) -> str:
        return _to_the_second(obj.updated_at)

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


@register_history
def _user_jobs_history(user) -> dict:
    """The User admin page's history: the account's jobs (accounts.admin.register_history)."""
    jobs = Job.objects.filter(user=user).select_related("concept").order_by("-created_at")[:10]
    rows = format_html_join(
        "",
        '<li><a href="{}">{}</a> · {} · {} · {}</li>',
        (
            (
                reverse("admin:studio_job_change", args=[j.pk]), str(j.public_id)[:8], j.concept.slug,
                j.get_status_display(), f"{timezone.localtime(j.created_at):%Y-%m-%d %H:%M:%S}",
            )
            for j in jobs
        ),
    )
    return {
        "links": [(Job, f"user__id__exact={user.pk}", Job.objects.filter(user=user).count(), _("jobs"))],
        "sections": [(_("Latest jobs"), rows)],
    }
