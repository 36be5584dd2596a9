"""Issue 13 item 10: every main page works under the strict Content-Security-Policy in Debian chromium:
no `securitypolicyviolation` event and no CSP console error on the site, the Django admin and the
Swagger UI (/api/docs/)."""

import numpy as np
import pytest

from gallery.services import result_create
from loveloveshot.middleware import CONTENT_SECURITY_POLICY
from studio.models import Job
from tests.builders import build_concept

pytestmark = pytest.mark.e2e

PASSWORD = "Han-river-picnic-2026"

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " @" + e.sourceFile + ":" + e.lineNumber);
});
"""


def _visit(page, url, problems, *, wait_for=None):
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    csp = response.headers.get("content-security-policy") or ""
    if "/admin/rq/" in url:  # django-rq's own static inline script, allowed there by its hash only
        assert csp.startswith("default-src 'self'; script-src 'self' 'sha256-"), (url, csp)
    else:
        assert csp == CONTENT_SECURITY_POLICY, (url, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
    page.wait_for_load_state("networkidle")
    if wait_for:
        page.wait_for_selector(wait_for, state="attached")
    problems.extend(f"{url}: {v}" for v in page.evaluate("window.__csp || []"))


def _login(page, base, email):
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("networkidle")


def test_every_main_page_works_under_the_strict_csp(stack, browser, django_user_model):
    concept = build_concept(slug="film-date")
    user = django_user_model.objects.create_user(email="couple@example.com", password=PASSWORD)
    django_user_model.objects.create_user(
        email="boss@example.com", password=PASSWORD, is_staff=True, is_superuser=True
    )
    job = Job.objects.create(user=user, concept=concept, plan="standard", status=Job.Status.DONE, progress=100)
    result = result_create(
        job=job, scene=concept.scenes.first(), variant=0, image=np.full((400, 560, 3), 150, np.uint8),
        max_side=800, thumb_side=240,
    )
    scene = concept.scenes.first()

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ko-KR", bypass_csp=False)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(30_000)
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    problems: list[str] = []
    base = stack.url

    for url in ("/", "/accounts/login/", "/accounts/signup/", "/concepts/", f"/concepts/{concept.slug}/"):
        _visit(page, base + url, problems)
    _visit(page, base + "/api/docs/", problems, wait_for=".swagger-ui .information-container")

    _login(page, base, "couple@example.com")
    for url in (
        "/studio/new/",
        f"/studio/jobs/{job.public_id}/",
        "/studio/jobs/",
        "/album/",
        f"/album/{result.public_id}/",
    ):
        _visit(page, base + url, problems)
    page.goto(base + "/")
    context.clear_cookies()

    _login(page, base, "boss@example.com")
    for url in (
        "/admin/",
        "/admin/studio/job/",
        f"/admin/studio/job/{job.pk}/change/",
        "/admin/gallery/result/",
        f"/admin/gallery/result/{result.pk}/change/",
        f"/admin/accounts/user/{user.pk}/delete/",
        f"/admin/gallery/scene/{scene.pk}/change/",
        f"/admin/accounts/user/{user.pk}/change/",
        "/admin/gallery/report/",
        "/admin/rq/",  # the queue dashboard linked from the admin index
        "/admin/rq/queues/0/",
    ):
        _visit(page, base + url, problems)
    context.close()

    assert problems == [], "\n".join(problems)
    assert console == []
