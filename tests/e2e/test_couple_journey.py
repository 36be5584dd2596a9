"""A couple's whole journey in a real browser: sign up, upload two portraits with consent, watch the
queue and progress update live over the websocket, see the photo appear without a reload, find it
in the album, download it, delete it."""

import pytest

from gallery.models import Result
from studio.models import Job
from tests.builders import build_concept
from tests.conftest import faces_dir

pytestmark = pytest.mark.e2e

EMAIL = "couple@example.com"
PASSWORD = "Han-river-picnic-2026"


def test_sign_up_upload_watch_live_and_find_in_album(stack, phone):
    build_concept(slug="film-date", pairs=(("obama.jpg", "biden.jpg"),))
    page = phone
    page.goto(stack.url + "/")
    assert page.locator("html").get_attribute("lang") == "ko"

    # 1. sign up (allauth, email + password)
    page.goto(stack.url + "/accounts/signup/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.check("#id_age_confirmed")
    page.check("#id_terms_accepted")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("networkidle")
    assert "/accounts/signup" not in page.url

    # 2. create: pick the concept, add one photo each, accept the terms
    page.goto(stack.url + "/studio/new/?concept=film-date")
    page.set_input_files("#id_photos_a", str(faces_dir() / "grace_hopper.jpg"))
    page.set_input_files("#id_photos_b", str(faces_dir() / "astronaut.png"))
    page.check("#id_consent")
    page.check("#id_partner_consent")
    page.click("#submit-job")
    page.wait_for_url("**/studio/jobs/*/")
    job = Job.objects.get(user__email=EMAIL)
    assert job.status in (Job.Status.CHECKING, Job.Status.QUEUED)  # photos are checked after submit

    # 3. no worker yet: the page says we're first in line, pushed over the websocket
    page.wait_for_function(
        "document.querySelector('[data-testid=queue-position]') && "
        "/1/.test(document.querySelector('[data-testid=queue-position]').textContent)"
    )
    # Mark this document, and record every stage/status the page shows from now on.
    page.evaluate(
        """() => {
        window.__sameDocument = true;
        window.__seen = [];
        const watch = (sel) => {
          const el = document.querySelector(sel);
          if (!el) return;
          new MutationObserver(() => window.__seen.push(el.textContent.trim()))
            .observe(el, {subtree: true, childList: true, characterData: true, attributes: true});
        };
        watch('[data-testid=job-stage]'); watch('[data-testid=job-status]'); watch('[data-testid=job-progress]');
      }"""
    )

    # 4. the worker starts: progress, then the finished photo appears in place
    stack.start_worker()
    page.wait_for_selector("[data-testid=results] img", timeout=120_000)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    assert len(page.evaluate("window.__seen")) >= 2, "no live updates were shown"
    # the pushed photo really loads (an owner-only image URL, served by the ownership-checking view)
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=results] img');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    result = Result.objects.get(job=job)
    page.wait_for_timeout(800)  # let the fade-in finish for the screenshot (not an assertion)
    page.screenshot(path="test-artifacts/job-done-390.png", full_page=True)

    # 5. the album shows it; open, download, delete
    page.goto(stack.url + "/album/")
    thumbs = page.locator("[data-testid=album] img")
    assert thumbs.count() == 1
    page.screenshot(path="test-artifacts/album-390.png", full_page=True)
    page.goto(stack.url + f"/album/{result.public_id}/")
    with page.expect_download() as dl:
        page.click("[data-testid=download-result]")
    data = open(dl.value.path(), "rb").read()
    assert data[:2] == b"\xff\xd8" and len(data) > 10_000
    page.click("[data-testid=delete-result] summary")
    page.click("[data-testid=confirm-delete]")
    page.wait_for_url("**/album/")
    assert page.locator("[data-testid=album] img").count() == 0
    assert not Result.objects.filter(pk=result.pk).exists()


def test_language_switch_to_english(stack, phone):
    page = phone
    page.goto(stack.url + "/")
    korean = page.locator("body").inner_text()
    page.click("[data-testid=lang-en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    english = page.locator("body").inner_text()
    assert english != korean
    assert "Log in" in english or "Sign up" in english


def test_job_page_survives_a_web_restart_and_still_shows_the_result(stack, browser, user, password):
    """The socket drops when the web server restarts: the page reconnects (polling meanwhile) and the
    photo still appears without a reload."""
    from accounts.services import consent_record_create
    from studio import services
    from tests.builders import upload

    concept = build_concept(slug="film-date", pairs=(("obama.jpg", "biden.jpg"),))
    job = services.job_create(user=user, concept=concept, photos_a=[upload("grace_hopper.jpg")],
                              photos_b=[upload("biden.jpg")],
                              consent=consent_record_create(user=user, partner_confirmed=True, ip_address=None))
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(30_000)
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(stack.url + "/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state("networkidle")
    page.goto(stack.url + f"/studio/jobs/{job.public_id}/")
    page.wait_for_function("/1/.test(document.querySelector('[data-testid=queue-position]').textContent)")
    page.evaluate("window.__sameDocument = true")

    stack.stop_web()
    page.wait_for_timeout(1500)  # the page notices the dropped socket and starts polling
    stack.start_web()
    stack.start_worker()
    page.wait_for_selector("[data-testid=results] img", timeout=120_000)
    assert page.evaluate("window.__sameDocument") is True
    page.wait_for_function("true", timeout=1000)
    assert len([u for u in sockets if f"/ws/jobs/{job.public_id}/" in u]) >= 2, sockets  # it reconnected
    job.refresh_from_db()
    assert job.status == "done"
    context.close()
