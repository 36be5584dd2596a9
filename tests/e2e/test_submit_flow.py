"""The submit flow in Debian chromium at 390 px and 1280 px (issues 14 and 16): a refused photo never
throws the others away; photo checks show on the job page and a rejected photo is replaced there; a
photo's note (hair over the brows) shows under it and again with the results;
progress only moves forward, and "queued / #1 in line" is shown even when a worker is free; finished
photos come with the full image for wide tiles; the live socket backs off while the server is
reconnecting and the page polls meanwhile. Screenshots go to test-artifacts/."""

import io
from types import SimpleNamespace

import pytest
from PIL import Image

from studio.models import Job
from tests.builders import build_concept
from tests.conftest import faces_dir

pytestmark = pytest.mark.django_db(transaction=True)

ARTIFACTS = "test-artifacts"


@pytest.fixture(params=[390, 1280], ids=["390px", "1280px"])
def sized(request, browser):
    """A Korean page at a phone width (390 px, 2x) and at a desktop width (1280 px)."""
    width = request.param
    phone = width < 640
    context = browser.new_context(viewport={"width": width, "height": 844 if phone else 900},
                                  device_scale_factor=2 if phone else 1, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield SimpleNamespace(page=page, width=width)
    context.close()


def _login(page, url, user, password):
    page.goto(url + "/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state("networkidle")


def _png(size, colour=(200, 190, 180)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def _file(name, data, mime="image/jpeg"):
    return {"name": name, "mimeType": mime, "buffer": data}


def test_a_bad_photo_among_several_keeps_the_others_marks_it_and_moves_focus(stack, sized, premium_user, password):
    build_concept(slug="film-date")
    page = sized.page
    _login(page, stack.url, premium_user, password)
    page.goto(stack.url + "/studio/new/?concept=film-date")
    faces = faces_dir()
    a = [_file(n, (faces / n).read_bytes()) for n in ("obama.jpg", "obama2.jpg")]
    a.append(_file("broken.jpg", b"\xff\xd8\xff\xe0 this is not really a photo" * 40))  # only the server can tell
    page.set_input_files("#id_photos_a", a)
    gh = (faces / "grace_hopper.jpg").read_bytes()
    page.set_input_files("#id_photos_b", [_file(n, gh) for n in ("grace_hopper.jpg", "gh2.jpg", "gh3.jpg")])
    page.check("#id_consent")
    page.check("#id_partner_consent")
    page.click("#submit-job")

    bad = page.locator("[data-testid=previews-a] [data-testid=preview-bad]")
    bad.wait_for()
    assert "/studio/new/" in page.url  # no navigation: the browser still holds every chosen file
    assert "broken.jpg" in bad.inner_text()
    assert page.locator("[data-testid=previews-a] li").count() == 3
    assert page.locator("[data-testid=previews-b] li").count() == 3
    assert page.evaluate("document.getElementById('id_photos_a').files.length") == 3
    assert page.evaluate("document.activeElement.dataset.testid") == "preview-bad"  # focus on the bad one
    assert page.evaluate("document.activeElement.dataset.index") == "2"
    alert = page.locator("[data-testid=form-errors]")
    assert alert.is_visible() and alert.get_attribute("role") == "alert"
    page.screenshot(path=f"{ARTIFACTS}/submit-bad-photo-{sized.width}.png", full_page=False)

    # before upload: a photo too small is marked at once, without asking the server
    page.locator("[data-testid=previews-a] [data-testid=preview-bad] .preview-remove").click()
    page.set_input_files("#id_photos_a", [_file("tiny.png", _png((64, 64)), "image/png")])
    page.locator("[data-testid=previews-a] [data-testid=preview-bad]").wait_for()
    assert "tiny.png" in page.locator("[data-testid=previews-a] [data-testid=preview-bad]").inner_text()
    assert Job.objects.count() == 0
    page.click("#submit-job")  # refused in the browser: focus goes to the marked photo
    assert page.evaluate("document.activeElement.dataset.testid") == "preview-bad"
    assert Job.objects.count() == 0

    # replace it: the job is created with all six photos
    page.locator("[data-testid=previews-a] [data-testid=preview-bad] .preview-remove").click()
    page.set_input_files("#id_photos_a", [str(faces / "obama3.jpg")])
    assert page.locator("[data-testid=previews-a] li").count() == 3
    page.click("#submit-job")
    page.wait_for_url("**/studio/jobs/*/")
    job = Job.objects.get(user=premium_user)
    assert job.photos.count() == 6
    assert sorted(job.photos.filter(person="a").values_list("name", flat=True)) == [
        "obama.jpg", "obama2.jpg", "obama3.jpg"]


RECORDER = """() => {
  window.__frames = [];
  const root = document.getElementById('job');
  const snap = () => {
    const q = root.querySelector('[data-testid=queue-position]');
    window.__frames.push({
      status: root.querySelector('[data-testid=job-status]').dataset.status,
      pct: Number(root.querySelector('[data-testid=job-progress]').dataset.pct),
      stage: root.querySelector('[data-testid=job-stage]').dataset.stage,
      queue: q.hidden ? null : q.textContent.trim(),
      position: q.dataset.position,
      eta: (root.querySelector('[data-testid=job-eta]') || {}).hidden === false
        ? root.querySelector('[data-testid=job-eta]').textContent : null,
    });
  };
  snap();
  new MutationObserver(snap).observe(root, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def test_rejected_photo_is_replaced_on_the_job_page_and_progress_only_moves_forward(stack, sized, user, password):
    build_concept(slug="film-date")
    stack.start_worker()  # a free swap worker: the job starts the moment its photos pass
    page = sized.page
    _login(page, stack.url, user, password)
    page.goto(stack.url + "/studio/new/?concept=film-date")
    # A: a lock of hair over one brow (accepted, with a note); B: no face (refused)
    page.set_input_files("#id_photos_a", str(faces_dir() / ".." / "synthetic_faces" / "sfhq_pt1_00002921.jpg"))
    page.set_input_files("#id_photos_b", [_file("beach.jpg", _png((640, 480)), "image/png")])  # no face
    page.check("#id_consent")
    page.check("#id_partner_consent")
    page.click("#submit-job")
    page.wait_for_url("**/studio/jobs/*/")

    # the check runs after the page is there: b0 is rejected with a reason and a way to replace it
    b0 = page.locator("[data-testid=photo-b0]")
    page.wait_for_selector("[data-testid=photo-b0][data-verdict=rejected]", timeout=60_000)
    page.wait_for_selector("[data-testid=photo-a0][data-verdict=ok]")
    assert "얼굴" in b0.inner_text()
    # A's photo is fine, and says plainly that the hair over the brow keeps the scene's forehead
    a0_note = page.locator("[data-testid=photo-a0] [data-note-text]")
    assert a0_note.is_visible() and "이마" in a0_note.inner_text()
    assert not page.locator("[data-testid=photo-b0] [data-note-text]").is_visible()
    assert page.locator("[data-testid=job-status]").get_attribute("data-status") == "checking"
    # while the job is going: "stop" is offered, "delete" is not (two different actions)
    assert page.locator("[data-testid=cancel-job]").is_visible()
    assert not page.locator("[data-testid=delete-job]").is_visible()
    page.screenshot(path=f"{ARTIFACTS}/submit-rejected-photo-{sized.width}.png", full_page=False)

    page.evaluate("window.__sameDocument = true")
    page.evaluate(RECORDER)
    page.set_input_files("[data-testid=replace-b0]", str(faces_dir() / "biden.jpg"))
    page.click("[data-testid=replace-submit-b0]")
    page.wait_for_selector("[data-testid=results] img", timeout=180_000)
    assert page.evaluate("window.__sameDocument") is True  # replaced without leaving the page

    frames = page.evaluate("window.__frames")
    job = Job.objects.get(user=user)
    assert job.status == Job.Status.DONE and job.results.count() == 1
    # "queued" and "#1 in line" were on screen although the worker was free
    assert any(f["status"] == "queued" and f["queue"] and "1" in f["queue"] for f in frames), frames
    # the bar never went back, the stepper never returned to an earlier stage
    pcts = [f["pct"] for f in frames if f["status"] in ("running", "done")]
    assert pcts and pcts == sorted(pcts), pcts
    order = {"": -1, "detect": 0, "swap": 1, "finish": 2}
    stages = [order.get(f["stage"], -1) for f in frames if f["status"] == "running"]
    assert stages == sorted(stages), stages
    # no long zero: progress is reported as soon as the job runs
    assert any(f["status"] == "running" and f["pct"] > 0 for f in frames), frames
    # a time estimate was shown while waiting or running
    assert any(f["eta"] for f in frames if f["status"] in ("queued", "running")), frames

    # finished: the tile can load the full image where it is wider than the 480 px thumbnail
    img = page.locator("[data-testid=results] img").first
    assert " 480w" in img.get_attribute("srcset") and "/image" in img.get_attribute("srcset").split(",")[1]
    img.evaluate("i => i.decode()")
    # one tile ~700 px wide (desktop) or 390 px at 2x (phone): wider than the thumbnail, so the full image
    assert img.evaluate("i => i.currentSrc").endswith("/image.jpg")
    # the note came with the results (live, from the "done" frame), for person A
    notes = page.locator("[data-testid=result-notes]")
    assert notes.is_visible() and "이마" in notes.inner_text() and notes.locator("li").count() == 1
    # ended: "delete" is offered, "stop" is not
    assert page.locator("[data-testid=delete-job]").is_visible()
    assert not page.locator("[data-testid=cancel-job]").is_visible()
    page.screenshot(path=f"{ARTIFACTS}/submit-done-{sized.width}.png", full_page=False)


def test_socket_backs_off_while_the_server_says_reconnecting_and_the_page_polls(stack, phone, user, password):
    """During a Redis outage the job socket is accepted, says "reconnecting" and closes with 1013 (see
    studio/consumers.py). The page must not reconnect every second: the backoff keeps growing (1 s,
    2 s, 4 s, ...) and status.json is polled meanwhile. The socket server is Playwright's stand-in
    giving exactly that answer; the page, the web server and the status endpoint are real."""
    import json
    import time

    from studio.selectors import job_state

    concept = build_concept(slug="film-date")
    job = Job.objects.create(user=user, concept=concept, plan="standard", status=Job.Status.RUNNING,
                             stage="swap", progress=40)
    state = job_state(job=job)
    opens = []

    def outage(ws):
        opens.append(time.monotonic())
        ws.send(json.dumps({"type": "state", **state}))
        ws.send(json.dumps({"type": "reconnecting"}))
        ws.close(code=1013, reason="Try Again Later")

    page = phone
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/status" in r.url else None)
    _login(page, stack.url, user, password)
    page.route_web_socket("**/ws/jobs/**", outage)
    page.goto(f"{stack.url}/studio/jobs/{job.public_id}/")
    deadline = time.monotonic() + 60
    while len(opens) < 4 and time.monotonic() < deadline:
        page.wait_for_timeout(100)  # lets Playwright deliver the socket events; the condition is the count
    assert len(opens) >= 4, opens
    gaps = [b - a for a, b in zip(opens, opens[1:], strict=False)]
    # growing: about 1 s, then 2 s, then 4 s (each plus up to 0.4 s jitter); never the 1 s treadmill
    assert gaps[1] >= 1.8 and gaps[2] >= 3.6, gaps
    assert len(polls) >= 3, polls  # the page kept itself up to date by polling status.json
    assert "is-offline" in page.locator("[data-live]").get_attribute("class")
    assert page.locator("[data-testid=job-status]").get_attribute("data-status") == "running"
    page.screenshot(path=f"{ARTIFACTS}/job-reconnecting-390.png", full_page=False)
