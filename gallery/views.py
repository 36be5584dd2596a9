from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .files import serve_private
from .forms import ReportForm
from .selectors import concept_get, concept_list, result_get, result_list, scene_get_published
from .services import report_create, result_delete


def home(request):
    return render(request, "home.html", {"concepts": concept_list()[:4]})


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


@login_required
def result_detail(request, public_id):
    return render(
        request, "gallery/result_detail.html", {"result": _own_result(request, public_id), "report_form": ReportForm()}
    )


@login_required
@require_POST
def result_report(request, public_id):
    result = _own_result(request, public_id)
    form = ReportForm(request.POST)
    if not form.is_valid():
        return render(
            request, "gallery/result_detail.html", {"result": result, "report_form": form, "report_open": True},
            status=400,
        )
    report_create(
        reporter=request.user, result=result, reason=form.cleaned_data["reason"], text=form.cleaned_data["text"]
    )
    messages.success(request, _("Thank you. Our team will review your report."))
    return redirect("gallery:result-detail", public_id=result.public_id)


@login_required
def result_image(request, public_id):
    return serve_private(_own_result(request, public_id).image)


@login_required
def result_thumb(request, public_id):
    return serve_private(_own_result(request, public_id).thumbnail)


@login_required
def result_download(request, public_id):
    result = _own_result(request, public_id)
    return serve_private(result.image, download_name=f"loveloveshot-{str(result.public_id)[:8]}.jpg")


@login_required
@require_POST
def result_remove(request, public_id):
    result_delete(result=_own_result(request, public_id))
    messages.success(request, _("The photo was deleted."))
    return redirect("gallery:album")
