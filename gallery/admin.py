"""Admin for concepts, scenes and results.

Scene and result files live in private storage; ``gallery:scene-image`` serves published scenes
only and the result views serve their owner only, so the admin streams previews through its own
staff-only URLs (``ModelAdmin.get_urls`` wrapped in ``admin_site.admin_view``)."""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Count
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import register_history

from .files import serve_private
from .models import Concept, Report, Result, Scene

PREVIEW_KINDS = ("image", "thumb")


class PrivatePreviewMixin:
    """Adds ``<app>_<model>_preview`` (staff only) streaming ``obj.image`` / ``obj.thumbnail``."""

    def get_urls(self):
        opts = self.model._meta
        urls = [
            path(
                "preview/<uuid:public_id>/<str:kind>.jpg",
                self.admin_site.admin_view(self.preview_view),
                name=f"{opts.app_label}_{opts.model_name}_preview",
            )
        ]
        return urls + super().get_urls()

    def preview_view(self, request, public_id, kind):
        if kind not in PREVIEW_KINDS:
            raise Http404
        obj = self.model.objects.filter(public_id=public_id).first()
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        field = obj.thumbnail if kind == "thumb" and obj.thumbnail else obj.image
        response = serve_private(field)
        response["Cache-Control"] = "private, no-store"
        return response

    def preview_url(self, obj, kind: str = "thumb") -> str:
        opts = self.model._meta
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_preview", args=[obj.public_id, kind]
        )

    @admin.display(description=_("preview"))
    def list_thumb(self, obj):
        if not obj.pk or not (obj.thumbnail or obj.image):
            return "—"
        return format_html(
            '<img src="{}" alt="" loading="lazy" class="lls-thumb">',  # static/css/admin.css (strict CSP)
            self.preview_url(obj, "thumb"),
        )


def _box_attrs(box) -> tuple[str, str, str, str] | None:
    try:
        x, y, w, h = (round(float(v) * 100, 2) for v in box)
    except (TypeError, ValueError):
        return None
    return f"{x}%", f"{y}%", f"{w}%", f"{h}%"


SLOT_COLORS = {"A": "#e91e63", "B": "#2196f3"}  # also in static/css/admin.css (.lls-slot-a / -b)


def slot_preview_html(*, image_url: str, slots: list[tuple[str, object, str]]):
    """The scene image with one labelled box per face slot, drawn as SVG rectangles over it (geometry in
    SVG attributes, colours in static/css/admin.css: no inline style, so it works under the strict CSP)."""
    boxes, legend = [], []
    for letter, box, label in slots:
        attrs = _box_attrs(box)
        if attrs is None:
            continue
        text = letter if not label or label == letter else f"{letter} · {label}"
        x, y, w, h = attrs
        boxes.append(
            format_html(
                '<rect class="lls-slot lls-slot-{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>'
                '<text class="lls-slot-tag lls-slot-tag-{}" x="{}" y="{}" dy="-0.35em">{}</text>',
                letter.lower(), x, y, w, h, label or letter, letter.lower(), x, y, text,
            )
        )
        legend.append(format_html('<span class="lls-slot-key lls-slot-key-{}">{}</span>', letter.lower(), text))
    return format_html(
        '<div class="lls-slot-preview"><img src="{}" alt="">'
        '<svg class="lls-slot-boxes" aria-hidden="true">{}</svg></div><p class="lls-slot-legend">{}</p>',
        image_url,
        format_html("".join(["{}"] * len(boxes)), *boxes) if boxes else "",
        format_html(" ".join(["{}"] * len(legend)), *legend) if legend else "",
    )


# --- concepts & scenes ----------------------------------------------------------------------------


# Private files have no public URL: a plain file input instead of "Currently: <dead link>".
PRIVATE_FILE_WIDGETS = {models.ImageField: {"widget": forms.FileInput}, models.FileField: {"widget": forms.FileInput}}


class SceneInline(admin.TabularInline):
    """Scenes of a concept: title, order, published. Pictures are added and replaced on the Scene page
    only, where the scene intake checks them (two usable faces) and detects the slots."""

    model = Scene
    extra = 0
    fields = ("title", "is_published", "order")
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class SceneAdminForm(forms.ModelForm):
    """Scene intake (gallery.scene_intake): a new picture is saved only with exactly two usable faces
    (enough pixels between the eyes, not in profile); slots A/B then come from the detector, following
    the hint. Without a new picture the slots may be corrected by hand."""

    class Meta:
        model = Scene
        fields = ("concept", "title", "order", "is_published", "image", "thumbnail", "slot_hint", "slot_a",
                  "slot_a_label", "slot_b", "slot_b_label")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scene_image = None
        self.scene_check = None
        for name in ("slot_a", "slot_b"):
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].help_text = _(
                    "Filled from the detected faces when you upload a picture; edit only to correct a slot."
                )

    def clean(self):
        data = super().clean()
        upload = self.files.get(self.add_prefix("image"))
        if upload is None or "image" in self.errors:
            for name in ("slot_a", "slot_b"):
                if name in self.fields and data.get(name) in (None, "", []) and name not in self.errors:
                    self.add_error(name, _("This field is required."))
            return data
        from django.conf import settings

        from engine import ImageDecodeError, decode_image, get_engine

        from .scene_intake import check_scene

        try:
            upload.seek(0)
            image = decode_image(upload.read())
        except ImageDecodeError:
            self.add_error("image", _("This file is not a picture that can be read."))
            return data
        finally:
            upload.seek(0)
        check = check_scene(image=image, engine=get_engine(settings.MODELS_DIR, diagnostics=False),
                            hint=data.get("slot_hint") or "")
        if not check.ok:
            for error in check.errors:
                self.add_error("image", error)
            return data
        self.scene_image, self.scene_check = image, check
        data["slot_a"], data["slot_b"] = check.slots
        for name in ("slot_a", "slot_b"):
            self.errors.pop(name, None)
        return data


def detected_faces_html(check) -> str:
    """One line per detected main face: which slot, eye distance, head turn; then any refusal."""
    from .scene_intake import SCENE_MAX_YAW

    items = []
    for sf in check.faces:
        letter = ("A" if _same_box(sf.box, check.slots[0]) else "B") if check.slots else ""
        turn = "—" if sf.yaw is None else f"{abs(sf.yaw):.0f}°"
        items.append(format_html(
            "<li>{}{} px between the eyes, turned {} (at most {}°)</li>",
            format_html("<b>{}</b>: ", letter) if letter else "", round(sf.eye_distance), turn,
            round(SCENE_MAX_YAW),
        ))
    errors = [format_html('<li class="errornote">{}</li>', e) for e in check.errors]
    return format_html('<ul class="lls-detected">{}{}</ul>', format_html_join("", "{}", ((i,) for i in items)),
                       format_html_join("", "{}", ((e,) for e in errors)))


def _same_box(a, b, tol: float = 0.002) -> bool:
    return all(abs(float(x) - float(y)) <= tol for x, y in zip(a, b, strict=True))


@admin.register(Concept)
class ConceptAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_ko", "name_en", "scene_count", "is_published", "order", "updated_at")
    list_editable = ("is_published", "order")
    list_filter = ("is_published",)
    search_fields = ("slug", "name_ko", "name_en")
    prepopulated_fields = {"slug": ("name_en",)}
    inlines = [SceneInline]
    actions = ["publish", "unpublish"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(scene_total=Count("scenes"))

    @admin.display(description=_("scenes"), ordering="scene_total")
    def scene_count(self, obj) -> int:
        return obj.scene_total

    @admin.action(description=_("Publish selected concepts"), permissions=["change"])
    def publish(self, request, queryset):
        set_published(self, request, queryset, True,
                      lambda n: ngettext("%d concept published.", "%d concepts published.", n))

    @admin.action(description=_("Unpublish selected concepts"), permissions=["change"])
    def unpublish(self, request, queryset):
        set_published(self, request, queryset, False,
                      lambda n: ngettext("%d concept unpublished.", "%d concepts unpublished.", n))


@admin.register(Scene)
class SceneAdmin(PrivatePreviewMixin, admin.ModelAdmin):
    form = SceneAdminForm
    list_display = ("list_thumb", "__str__", "concept", "order", "is_published", "created_at")
    list_display_links = ("list_thumb", "__str__")
    list_editable = ("is_published",)
    list_filter = ("is_published", "concept")
    list_select_related = ("concept",)
    formfield_overrides = PRIVATE_FILE_WIDGETS
    search_fields = ("title", "concept__slug", "concept__name_ko", "concept__name_en")
    readonly_fields = ("public_id", "slot_preview", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("concept", "title", "order", "is_published", "public_id")}),
        (_("Image"), {"fields": ("image", "thumbnail")}),
        (_("Face slots"), {"fields": ("slot_preview", "slot_hint", "slot_a", "slot_a_label", "slot_b",
                                      "slot_b_label")}),
        (_("Dates"), {"fields": ("created_at", "updated_at")}),
    )
    actions = ["publish", "unpublish", "redetect_slots"]

    @admin.action(description=_("Detect faces again and fill slots A/B (following the hint)"),
                  permissions=["change"])
    def redetect_slots(self, request, queryset):
        from django.conf import settings

        from engine import get_engine

        from .services import scene_redetect_slots

        done, failed = 0, []
        for scene in queryset:
            try:
                scene_redetect_slots(scene=scene, engine=get_engine(settings.MODELS_DIR))
            except ValueError as exc:
                failed.append(f"{scene}: {exc}")
            else:
                done += 1
        log_each(self, request, queryset, "Face slots detected again.")
        self.message_user(request, ngettext("%d scene updated.", "%d scenes updated.", done) % done)
        for line in failed:
            self.message_user(request, _("Slots unchanged, the picture fails the scene intake: %(why)s")
                              % {"why": line}, level=messages.WARNING)

    @admin.display(description=_("face slots"))
    def slot_preview(self, obj):
        if not obj or not obj.pk or not (obj.thumbnail or obj.image):
            return _("Upload a picture with exactly two people facing the camera: the faces are detected "
                     "and become slots A and B.")
        preview = slot_preview_html(
            image_url=self.preview_url(obj, "thumb" if obj.thumbnail else "image"),
            slots=[("A", obj.slot_a, obj.slot_a_label), ("B", obj.slot_b, obj.slot_b_label)],
        )
        from .scene_intake import check_stored_scene

        check = check_stored_scene(scene=obj)
        if check is None:
            return preview
        return format_html("{}<p>{}</p>{}", preview, _("Faces the detector finds in this picture now:"),
                           detected_faces_html(check))

    def save_model(self, request, obj, form, change):
        image = getattr(form, "scene_image", None)
        if image is None:
            return super().save_model(request, obj, form, change)
        from .services import scene_store_image

        scene_store_image(scene=obj, image=image, slots=form.scene_check.slots)
        faces = form.scene_check.faces
        self.message_user(request, _(
            "Two faces detected: slot A and slot B were set (%(a)d and %(b)d px between the eyes)."
        ) % {"a": round(faces[0].eye_distance), "b": round(faces[1].eye_distance)}, messages.SUCCESS)

    @admin.action(description=_("Publish selected scenes"), permissions=["change"])
    def publish(self, request, queryset):
        set_published(self, request, queryset, True,
                      lambda n: ngettext("%d scene published.", "%d scenes published.", n))

    @admin.action(description=_("Unpublish selected scenes"), permissions=["change"])
    def unpublish(self, request, queryset):
        set_published(self, request, queryset, False,
                      lambda n: ngettext("%d scene unpublished.", "%d scenes unpublished.", n))


# --- results --------------------------------------------------------------------------------------


@admin.register(Result)
class ResultAdmin(PrivatePreviewMixin, admin.ModelAdmin):
    list_display = ("list_thumb", "public_id", "user", "job", "scene", "variant", "size", "is_hidden", "created_at")
    list_display_links = ("list_thumb", "public_id")
    list_editable = ("is_hidden",)
    list_filter = ("is_hidden", "scene__concept")
    list_select_related = ("user", "job", "scene")
    search_fields = ("public_id", "user__email", "job__public_id")
    date_hierarchy = "created_at"
    fields = (
        "large_preview",
        "public_id",
        "user",
        "job",
        "scene",
        "variant",
        "width",
        "height",
        "is_hidden",
        "created_at",
        "updated_at",
    )
    readonly_fields = tuple(f for f in fields if f != "is_hidden")
    actions = ["hide", "unhide"]

    def has_add_permission(self, request) -> bool:
        return False  # results are made by the worker

    # Admin deletes (one, or the bulk action) go through the service that removes the files too.
    def delete_model(self, request, obj) -> None:
        from .services import result_delete

        result_delete(result=obj)

    def delete_queryset(self, request, queryset) -> None:
        from .services import result_delete

        for result in list(queryset):
            result_delete(result=result)

    @admin.display(description=_("size"))
    def size(self, obj) -> str:
        return f"{obj.width}×{obj.height}"

    @admin.display(description=_("image"))
    def large_preview(self, obj):
        if not obj or not obj.pk:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" class="lls-preview"></a>',
            self.preview_url(obj, "image"),
            self.preview_url(obj, "thumb"),
        )

    @admin.action(description=_("Hide selected results"), permissions=["change"])
    def hide(self, request, queryset):
        log_each(self, request, queryset, "Hidden.")
        n = queryset.update(is_hidden=True)
        self.message_user(request, ngettext("%d result hidden.", "%d results hidden.", n) % n, messages.SUCCESS)

    @admin.action(description=_("Unhide selected results"), permissions=["change"])
    def unhide(self, request, queryset):
        log_each(self, request, queryset, "Unhidden.")
        n = queryset.update(is_hidden=False)
        self.message_user(request, ngettext("%d result unhidden.", "%d results unhidden.", n) % n, messages.SUCCESS)


# --- moderation -----------------------------------------------------------------------------------


def log_each(modeladmin: admin.ModelAdmin, request, objects, message: str) -> None:
    """Custom admin actions don't write Django's admin log by themselves: record one LogEntry per
    object (who, when, what) so every staff action is in the audit trail."""
    for obj in objects:
        modeladmin.log_change(request, obj, message)


def set_published(modeladmin: admin.ModelAdmin, request, queryset, published: bool, message) -> None:
    """Publish or unpublish concepts/scenes from an admin action: log each one, then say how many."""
    log_each(modeladmin, request, queryset, "Published." if published else "Unpublished.")
    n = queryset.update(is_published=published)
    modeladmin.message_user(request, message(n) % n)


MODERATION_PERMS = {
    # page button / bulk action -> the change permission it needs
    "hide": "gallery.change_result",
    "ban": "accounts.change_user",
    "resolve": "gallery.change_report",
}


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The moderation queue: open reports first, with the reported photo and the three actions, both
    as bulk actions and as buttons on each report's own page. Each needs its change permission
    (hide: change result, ban: change user, resolve: change report); "view" only looks."""

    list_display = (
        "created_at_s", "status", "reason_text", "result_thumb", "owner", "reporter_or_contact", "short_text",
    )
    list_display_links = ("created_at_s",)
    list_filter = ("status", "source", "reason")
    list_select_related = ("result__user", "reporter", "handled_by")
    search_fields = ("public_id", "result__public_id", "result__user__email", "reporter__email", "text", "contact")
    date_hierarchy = "created_at"
    fields = (
        "result_preview", "result_code", "public_id", "result", "owner", "source", "reporter", "contact", "reason",
        "text", "status", "handled_by", "handled_at", "created_at",
    )
    readonly_fields = fields
    actions = ["hide_result", "ban_user", "mark_resolved"]
    change_form_template = "admin/gallery/report/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False  # reports come from users (gallery:result-report) and the public removal page

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # the per-user history on the User admin links here with ?result__user__id__exact=<id>
        return lookup == "result__user__id__exact" or super().lookup_allowed(lookup, value, request)

    def has_change_permission(self, request, obj=None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    # the moderation permissions (used by the bulk actions and the page buttons)
    def has_hide_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(MODERATION_PERMS["hide"])

    def has_ban_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(MODERATION_PERMS["ban"])

    def has_resolve_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(MODERATION_PERMS["resolve"])

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/moderate/<str:what>/",
                self.admin_site.admin_view(self.moderate_view),
                name=f"{opts.app_label}_{opts.model_name}_moderate",
            )
        ] + super().get_urls()

    def moderate_view(self, request, object_id, what):
        """POST from a report's own page: hide its photo, ban its owner, or mark it resolved."""
        from django.core.exceptions import PermissionDenied
        from django.http import HttpResponseNotAllowed
        from django.shortcuts import redirect

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        checks = {"hide": self.has_hide_permission, "ban": self.has_ban_permission,
                  "resolve": self.has_resolve_permission}
        if what not in checks:
            raise Http404
        report = self.get_object(request, object_id)
        if report is None or not self.has_view_permission(request, report):
            raise Http404
        if not checks[what](request):
            raise PermissionDenied
        queryset = Report.objects.filter(pk=report.pk)
        {"hide": self.hide_result, "ban": self.ban_user, "resolve": self.mark_resolved}[what](request, queryset)
        return redirect(reverse(f"{self.admin_site.name}:gallery_report_change", args=[report.pk]))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            report = self.get_object(request, object_id)
            if report is not None:
                extra_context["moderation"] = {
                    "report": report,
                    "can_hide": self.has_hide_permission(request) and not report.result.is_hidden,
                    "can_ban": self.has_ban_permission(request) and report.result.user.is_active
                    and not report.result.user.is_superuser and report.result.user_id != request.user.pk,
                    "can_resolve": self.has_resolve_permission(request) and report.status == Report.Status.OPEN,
                    "hide_url": reverse(f"{self.admin_site.name}:gallery_report_moderate", args=[report.pk, "hide"]),
                    "ban_url": reverse(f"{self.admin_site.name}:gallery_report_moderate", args=[report.pk, "ban"]),
                    "resolve_url": reverse(
                        f"{self.admin_site.name}:gallery_report_moderate", args=[report.pk, "resolve"]
                    ),
                }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _result_preview_url(self, result) -> str:
        return reverse(f"{self.admin_site.name}:gallery_result_preview", args=[result.public_id, "thumb"])

    @admin.display(description=_("reported at"), ordering="created_at")
    def created_at_s(self, obj) -> str:
        from django.utils import timezone

        return f"{timezone.localtime(obj.created_at):%Y-%m-%d %H:%M:%S}"

    @admin.display(description=_("reason"), ordering="reason")
    def reason_text(self, obj):
        return format_html('<span class="lls-reason">{}</span>', obj.get_reason_display())

    @admin.display(description=_("photo code"))
    def result_code(self, obj) -> str:
        return obj.result.code

    @admin.display(description=_("reporter / contact"))
    def reporter_or_contact(self, obj):
        if obj.reporter_id:
            return obj.reporter.email
        return format_html("{}<br><small>{}</small>", obj.contact or "—", obj.get_source_display())

    @admin.display(description=_("photo"))
    def result_thumb(self, obj):
        return format_html(
            '<img class="lls-thumb" src="{}" alt="" loading="lazy">{}',
            self._result_preview_url(obj.result),
            format_html(' <b>{}</b>', _("hidden")) if obj.result.is_hidden else "",
        )

    @admin.display(description=_("photo"))
    def result_preview(self, obj):
        return format_html(
            '<img class="lls-preview" src="{}" alt="">',
            reverse(f"{self.admin_site.name}:gallery_result_preview", args=[obj.result.public_id, "image"]),
        )

    @admin.display(description=_("owner"), ordering="result__user__email")
    def owner(self, obj):
        user = obj.result.user
        url = reverse(f"{self.admin_site.name}:accounts_user_change", args=[user.pk])
        return format_html('<a href="{}">{}</a>{}', url, user.email, "" if user.is_active else _(" (banned)"))

    @admin.display(description=_("details"))
    def short_text(self, obj) -> str:
        return (obj.text[:60] + "…") if len(obj.text) > 60 else obj.text

    @admin.action(description=_("Hide the reported photos"), permissions=["hide"])
    def hide_result(self, request, queryset):
        from .services import result_hide

        results = {r.result_id: r.result for r in queryset.select_related("result")}.values()
        for result in results:
            result_hide(result=result)
        log_each(self.admin_site._registry[Result], request, results, "Hidden from a report (moderation).")
        log_each(self, request, queryset, "Reported photo hidden.")
        n = len(results)
        self.message_user(request, ngettext("%d photo hidden.", "%d photos hidden.", n) % n, messages.SUCCESS)

    @admin.action(description=_("Ban the owners of the reported photos"), permissions=["ban"])
    def ban_user(self, request, queryset):
        from accounts.models import User
        from accounts.services import user_ban

        users = {r.result.user_id: r.result.user for r in queryset.select_related("result__user")}.values()
        users = [u for u in users if u.pk != request.user.pk and not u.is_superuser]
        for user in users:
            user_ban(user=user)
        log_each(self.admin_site._registry[User], request, users, "Banned from a report: deactivated, jobs cancelled.")
        log_each(self, request, queryset, "Owner banned.")
        n = len(users)
        self.message_user(request, ngettext("%d user banned.", "%d users banned.", n) % n, messages.SUCCESS)

    @admin.action(description=_("Mark selected reports resolved"), permissions=["resolve"])
    def mark_resolved(self, request, queryset):
        from .services import report_resolve

        reports = list(queryset.filter(status=Report.Status.OPEN))
        for report in reports:
            report_resolve(report=report, staff=request.user)
        log_each(self, request, reports, "Marked resolved.")
        n = len(reports)
        self.message_user(
            request, ngettext("%d report resolved.", "%d reports resolved.", n) % n, messages.SUCCESS
        )


def _user_results_history(user) -> dict:
    """The User admin page's history: the account's results and reports (accounts.admin.register_history)."""
    return {"links": [
        (Result, f"user__id__exact={user.pk}", Result.objects.filter(user=user).count(), _("results")),
        (Report, f"result__user__id__exact={user.pk}", Report.objects.filter(result__user=user).count(),
         _("reports about their photos")),
        (Report, f"reporter__id__exact={user.pk}", Report.objects.filter(reporter=user).count(),
         _("reports they filed")),
    ]}


register_history(_user_results_history)
