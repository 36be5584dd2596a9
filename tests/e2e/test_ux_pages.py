"""Issue 16 items 3-9 in Debian chromium at 390 px and 1280 px: sharing (share sheet with the file,
opt-in public link), plans, reporting + public removal requests, home grid, natural dates, the
wordmark clear of the KO/EN toggle, sign-up checkboxes, and a moderator working a report from its
own page. Screenshots go to test-artifacts/ (a few are copied to docs/ for the README)."""

import re

import numpy as np
import pytest
from django.contrib.auth.models import Permission

from gallery.models import Concept, Report
from gallery.services import scene_create
from tests.e2e.conftest import ARTIFACTS
from tests.integration.ux_fixtures import finished_result

pytestmark = pytest.mark.e2e

PASSWORD = "Han-river-picnic-2026"
VIEWPORTS = {"390": {"width": 390, "height": 844}, "1280": {"width": 1280, "height": 800}}
# Records what the page hands to the share sheet (Linux chromium has no Web Share; the page's own
# share.js runs unchanged against this stand-in of navigator.share / canShare).
SHARE_STUB = """
window.__shared = [];
navigator.canShare = (data) => !!(data && data.files && data.files.length);
navigator.share = async (data) => {
  const f = data.files ? data.files[0] : null;
  window.__shared.push({name: f && f.name, type: f && f.type, size: f && f.size, url: data.url || null});
};
"""


def _concepts(n: int) -> None:
    rng = np.random.default_rng(7)
    for i in range(n):
        concept = Concept.objects.create(slug=f"concept-{i}", name_ko=f"컨셉 {i + 1}", name_en=f"Concept {i + 1}",
                                         is_published=True, order=i)
        image = (rng.random((420, 600, 3)) * 255).astype(np.uint8)
        scene_create(concept=concept, image=image, title=f"scene {i}",
                     slots=[[0.2, 0.2, 0.2, 0.3], [0.6, 0.2, 0.2, 0.3]], published=True)


def _context(browser, width: str, *, locale: str = "ko-KR"):
    ctx = browser.new_context(viewport=VIEWPORTS[width], device_scale_factor=1, locale=locale)
    ctx.set_default_timeout(20_000)
    return ctx


def _login(page, url: str, email: str) -> None:
    page.goto(url + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state("networkidle")


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", ["390", "1280"])
def test_share_report_remove_plans_and_home(stack, browser, django_user_model, settings, width):
    settings.C2PA_SIGN = False
    _concepts(3)
    owner = django_user_model.objects.create_user(email="couple@example.com", password=PASSWORD)
    result = finished_result(owner, slug="concept-0")
    ctx = _context(browser, width)
    ctx.add_init_script(SHARE_STUB)
    page = ctx.new_page()

    # home: concepts from the database only, and no empty column in the grid
    page.goto(stack.url + "/")
    names = page.locator("[data-testid=home-concept-names]").inner_text()
    assert "컨셉 1" in names and "벚꽃" not in names
    boxes = [c.bounding_box() for c in page.locator(".concept-grid .concept-card").all()]
    grid = page.locator(".concept-grid").bounding_box()
    assert len(boxes) == 3
    if width == "1280":
        assert len({round(b["y"]) for b in boxes}) == 1, "three concepts in one row"
        left_gap = boxes[0]["x"] - grid["x"]
        right_gap = grid["x"] + grid["width"] - (boxes[-1]["x"] + boxes[-1]["width"])
        assert abs(left_gap - right_gap) <= 2, "the row is centred, no empty column"
    _shot(page, f"ux-home-{width}")

    # the album: finished photos at a real size (not ~190 px thumbnails on a desktop)
    _login(page, stack.url, owner.email)
    page.goto(stack.url + "/album/")
    tile = page.locator(".photo-tile img").first
    page.wait_for_function("() => { const i = document.querySelector('.photo-tile img');"
                           " return i.complete && i.naturalWidth > 0; }")
    assert tile.bounding_box()["width"] >= (320 if width == "1280" else 330)
    _shot(page, f"ux-album-{width}")

    # result page: natural date, share sheet with the file, share link, report
    page.goto(stack.url + f"/album/{result.public_id}/")
    when = page.locator(".film-frame time").inner_text()
    assert re.fullmatch(r"\d{4}년 \d{1,2}월 \d{1,2}일 (오전|오후) \d{1,2}:\d\d", when), when
    page.click("[data-testid=share-result]")
    page.wait_for_function("window.__shared.length === 1")
    shared = page.evaluate("window.__shared[0]")
    assert re.fullmatch(rf"loveloveshot-\d{{4}}-\d\d-\d\d-{result.code}\.jpg", shared["name"])
    assert shared["type"] == "image/jpeg" and shared["size"] > 10_000

    page.select_option("#id_days", "30")
    page.click("[data-testid=make-share-link]")
    share_url = page.locator("[data-testid=share-link-url]").input_value()
    assert re.fullmatch(re.escape(stack.url) + r"/s/[A-Za-z0-9_-]{32}/", share_url)
    _shot(page, f"ux-result-share-{width}")

    page.click("[data-testid=report-result] summary")
    page.click("[data-testid=submit-report]")  # no reason chosen: refused with a friendly sentence
    assert "무엇이 문제인지 골라 주세요" in page.locator("[data-testid=report-result]").inner_text()
    page.select_option("#id_reason", "no_consent")
    page.click("[data-testid=submit-report]")
    assert page.locator("[data-testid=messages]").is_visible()
    assert Report.objects.filter(reporter=owner, result=result).count() == 1

    # the public page, for someone without an account
    anon = _context(browser, width).new_page()
    response = anon.goto(share_url)
    assert response.headers["x-robots-tag"].startswith("noindex")
    assert anon.locator("meta[name=robots]").get_attribute("content").startswith("noindex")
    assert "AI" in anon.locator("[data-testid=ai-label]").inner_text()
    anon.wait_for_function("() => { const i = document.querySelector('[data-testid=shared-image]');"
                           " return i.complete && i.naturalWidth > 0; }")
    _shot(anon, f"ux-shared-{width}")

    # a pictured person asks for removal by the code, no account
    anon.goto(stack.url + "/removal/")
    anon.fill("#id_code", result.code.lower())
    anon.select_option("#id_reason", "no_consent")
    anon.fill("#id_contact", "pictured@example.com")
    _shot(anon, f"ux-removal-{width}")
    anon.click("[data-testid=removal-submit]")
    anon.wait_for_selector("[data-testid=removal-sent]")
    assert Report.objects.filter(reporter=None, source=Report.Source.PUBLIC, result=result).count() == 1

    # plans
    page.goto(stack.url + "/plans/")
    assert page.locator("[data-testid=plan-premium]").is_visible()
    assert page.locator("[data-testid=redeem-form]").is_visible()
    _shot(page, f"ux-plans-{width}")
    ctx.close()


def test_english_phone_header_signup_and_album(stack, browser, django_user_model, settings):
    settings.C2PA_SIGN = False
    owner = django_user_model.objects.create_user(email="en@example.com", password=PASSWORD)
    finished_result(owner)
    ctx = _context(browser, "390", locale="en-US")
    page = ctx.new_page()
    page.goto(stack.url + "/accounts/signup/")
    page.click("[data-testid=lang-en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    mark = page.locator(".wordmark").bounding_box()
    toggle = page.locator(".lang-toggle").bounding_box()
    assert mark["x"] + mark["width"] + 6 <= toggle["x"], (mark, toggle)
    assert page.locator("[data-testid=signup-privacy-link]").is_visible()
    assert page.locator("[data-testid=signup-terms-link]").is_visible()
    page.fill("input[name=email]", "new@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.check("#id_age_confirmed")
    page.click("[data-testid=signup-submit]")  # terms not accepted: refused, explicitly
    assert "accept the upload terms" in page.locator("[data-testid=signup-form]").inner_text()
    _shot(page, "ux-signup-en-390")
    page.check("#id_age_confirmed")
    page.check("#id_terms_accepted")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("[data-testid=signup-submit]")
    page.wait_for_load_state("networkidle")
    assert django_user_model.objects.filter(email="new@example.com").exists()
    page.click("[data-testid=logout]")
    _login(page, stack.url, owner.email)
    page.goto(stack.url + "/album/")
    when = page.locator(".photo-caption time").first.inner_text()
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", when), when
    ctx.close()


def test_moderator_works_a_report_from_its_page_and_viewer_cannot(stack, browser, django_user_model, settings):
    settings.C2PA_SIGN = False
    owner = django_user_model.objects.create_user(email="owner@example.com", password=PASSWORD)
    reporter = django_user_model.objects.create_user(email="rep@example.com", password=PASSWORD)
    result = finished_result(owner)
    report = Report.objects.create(result=result, reporter=reporter, reason=Report.Reason.IMPERSONATION,
                                   text="이 사진은 제 동의 없이 만들어졌습니다. " * 3)
    perms = ["view_report", "view_result", "view_user"]
    viewer = django_user_model.objects.create_user(email="viewer@example.com", password=PASSWORD, is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__in=perms))
    mod = django_user_model.objects.create_user(email="mod@example.com", password=PASSWORD, is_staff=True)
    mod.user_permissions.set(Permission.objects.filter(
        codename__in=perms + ["change_report", "change_result", "change_user"]))

    ctx = _context(browser, "1280")
    page = ctx.new_page()
    page.goto(stack.url + "/admin/login/")
    page.fill("#id_username", viewer.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(stack.url + f"/admin/gallery/report/{report.pk}/change/")
    assert page.locator("[data-testid=moderation-none]").is_visible()
    assert page.locator("[data-testid=moderate-hide]").count() == 0
    ctx.close()

    ctx = _context(browser, "1280")
    page = ctx.new_page()
    page.goto(stack.url + "/admin/login/")
    page.fill("#id_username", mod.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(stack.url + "/admin/gallery/report/")
    _shot(page, "ux-admin-queue-1280")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1280, "the queue fits 1280 px"
    table_right, box_right = page.evaluate(
        "[document.querySelector('#result_list').getBoundingClientRect().right,"
        " document.querySelector('#changelist-form').getBoundingClientRect().right]")
    assert table_right <= box_right + 1, ("no column of the queue is cut off", table_right, box_right)
    reason = page.locator(".lls-reason").first.bounding_box()
    assert reason["width"] > 100, "the reason is not wrapped one syllable per line"
    text_cell = page.locator("#result_list td.field-short_text").first.bounding_box()
    assert text_cell["width"] > 150, "the details are not squeezed into a one-syllable column"
    owner_link = page.locator("#result_list td.field-owner a").first.bounding_box()
    assert owner_link["height"] < 30, "the owner's email stays on one line"
    page.goto(stack.url + f"/admin/gallery/report/{report.pk}/change/")
    _shot(page, "ux-admin-report-1280")
    page.click("[data-testid=moderate-hide]")
    page.wait_for_selector(".messagelist")
    page.click("[data-testid=moderate-resolve]")
    page.wait_for_selector(".messagelist")
    result.refresh_from_db()
    report.refresh_from_db()
    assert result.is_hidden and report.status == Report.Status.RESOLVED and report.handled_by == mod
    ctx.close()
