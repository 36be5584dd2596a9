from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .files import serve_private
from .forms import RemovalRequestForm, ReportForm, ShareLinkForm
from .models import Report
from .selectors import (
    concept_get,
    concept_list,
    report_exists,
    result_find_by_code,
    result_get,
    result_list,
    scene_get_published,
    share_link_get_active,
    share_link_get_own,
    share_links_active,
)
from .services import (
    DuplicateReport,
    removal_request_create,
    report_create,
    result_delete,
    share_link_create,
    share_link_revoke,
)

NOINDEX = "noindex, nofollow, noarchive"


def home(request):
    return render(request, "home.html", {"concepts": concept_list()[:6]})


def concepts(request):
    return render(request, "gallery/concepts.html", {"concepts": concept_list()})


def concept_detail(request, slug):
    concept = concept_get(slug=slug)
    if concept is None:
        raise Http404
    return render(request, "gallery/concept_detail.html", {"concept": concept, "scenes": concept.published_scenes})


def scene_image(request, public_id, kind="thumb"):
    scene = scene_get_published(public_id=public_id)
    if scene is None:
        raise Http404
    return serve_private(scene.thumbnail if kind == "thumb" else scene.image)


@login_required
def album(request):
    return render(request, "gallery/album.html", {"results": result_list(user=request.user)})


def _own_result(request, public_id):
    result = result_get(user=request.user, public_id=public_id)
    if result is None:
        raise Http404
    return result


def _detail_context(request, result, **extra) -> dict:
    return {
        "result": result,
        "report_form": ReportForm(),
        "already_reported": report_exists(reporter=request.user, result=result),
        "share_form": ShareLinkForm(),
        "share_links": share_links_active(result=result),
        "download_name": download_name(result),
        **extra,
    }


@login_required
def result_detail(request, public_id):
    return render(request, "gallery/result_detail.html", _detail_context(request, _own_result(request, public_id)))


@login_required
@require_POST
def result_report(request, public_id):
    result = _own_result(request, public_id)
    form = ReportForm(request.POST)
    if not form.is_valid():
        return render(
            request, "gallery/result_detail.html",
            _detail_context(request, result, report_form=form, report_open=True), status=400,
        )
    try:
        report_create(
            reporter=request.user, result=result, reason=form.cleaned_data["reason"], text=form.cleaned_data["text"]
        )
    except DuplicateReport:
        messages.info(request, _("You already reported this photo. Our team will review it; no need to send it "
                                 "again."))
    else:
        messages.success(request, _("Thank you. Our team will review your report."))
    return redirect("gallery:result-detail", public_id=result.public_id)


@login_required
@require_POST
def result_share_create(request, public_id):
    result = _own_result(request, public_id)
    form = ShareLinkForm(request.POST)
    if not form.is_valid():
        return render(
            request, "gallery/result_detail.html", _detail_context(request, result, share_form=form), status=400
        )
    share_link_create(result=result, days=form.cleaned_data["days"])
    messages.success(request, _("Share link made. Anyone with the link can see this photo until it expires."))
    return redirect("gallery:result-detail", public_id=result.public_id)


@login_required
@require_POST
def result_share_revoke(request, token):
    link = share_link_get_own(user=request.user, token=token)
    if link is None:
        raise Http404
    share_link_revoke(link=link)
    messages.success(request, _("The share link was switched off. It no longer opens the photo."))
    return redirect("gallery:result-detail", public_id=link.result.public_id)


def _noindex(response):
    response["X-Robots-Tag"] = NOINDEX
    return response


def shared_result(request, token):
    """The public page of a share link: the labelled image only, never indexed."""
    link = share_link_get_active(token=token)
    if link is None:
        return _noindex(render(request, "gallery/shared_gone.html", status=404))
    response = render(request, "gallery/shared_result.html", {"link": link, "result": link.result})
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return _noindex(response)


def shared_result_image(request, token):
    link = share_link_get_active(token=token)
    if link is None:
        raise Http404
    response = serve_private(link.result.image)  # the stored, labelled result: never the uploads
    response["Cache-Control"] = "private, no-store"
    return _noindex(response)


def removal_request(request):
    """Anyone pictured in a photo asks for its removal (no account): code + reason + contact."""
    if request.method == "POST":
        form = RemovalRequestForm(request.POST)
        if _removal_rate_limited(request):
            form.is_valid()
            form.add_error(None, _("Too many requests from your connection. Please try again in an hour."))
            response = render(request, "gallery/removal_request.html", {"form": form}, status=429)
            response["Retry-After"] = "3600"
            return response
        if form.is_valid():
            result = result_find_by_code(code=form.cleaned_data["code"])
            if result is None:
                form.add_error("code", _("We can't find a photo with that code. Please check the label again."))
            else:
                removal_request_create(
                    result=result, reason=form.cleaned_data["reason"], text=form.cleaned_data["text"],
                    contact=form.cleaned_data["contact"], ip_address=request.META.get("REMOTE_ADDR") or None,
                )
                return redirect("gallery:removal-request-sent")
        return render(request, "gallery/removal_request.html", {"form": form}, status=400)
    form = RemovalRequestForm(initial={"code": request.GET.get("code", "")[:40]})
    return render(request, "gallery/removal_request.html", {"form": form})


def removal_request_sent(request):
    return render(request, "gallery/removal_request.html", {"sent": True})


def _removal_rate_limited(request) -> bool:
    """At most REMOVAL_REQUESTS_PER_HOUR requests per address per hour (counted in the database, so
    every web process shares the count)."""
    limit = getattr(settings, "REMOVAL_REQUESTS_PER_HOUR", 5)
    ip = request.META.get("REMOTE_ADDR") or None
    since = timezone.now() - timedelta(hours=1)
    return Report.objects.filter(source=Report.Source.PUBLIC, ip_address=ip, created_at__gte=since).count() >= limit


@login_required
def result_image(request, public_id):
    return serve_private(_own_result(request, public_id).image)


@login_required
def result_thumb(request, public_id):
    return serve_private(_own_result(request, public_id).thumbnail)


def download_name(result) -> str:
    """'loveloveshot-2026-12-01-7KQ3M0ZD.jpg': sorts by date in a phone's gallery, names the photo."""
    return f"loveloveshot-{timezone.localtime(result.created_at):%Y-%m-%d}-{result.code}.jpg"


@login_required
def result_download(request, public_id):
    result = _own_result(request, public_id)
    return serve_private(result.image, download_name=download_name(result))


@login_required
@require_POST
def result_remove(request, public_id):
    result_delete(result=_own_result(request, public_id))
    messages.success(request, _("The photo was deleted."))
    return redirect("gallery:album")
