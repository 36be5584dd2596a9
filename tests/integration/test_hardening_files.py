"""Issue 13 items 6, 7, 12: every delete path removes the files (admin single and bulk, API, the User
admin), a job whose account is deleted while it runs leaves nothing on disk, private files are 0600 in
0700 folders, and no empty upload folder stays behind."""

import stat

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.services import consent_record_create, user_delete
from gallery.models import Result
from gallery.services import result_create
from studio import services
from studio.models import Job
from tests.builders import build_concept, run_worker, upload

pytestmark = pytest.mark.django_db(transaction=True)


def files_on_disk(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def empty_dirs(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir() and not any(p.iterdir())}


def job_with_files(user, concept) -> tuple[Job, Result]:
    """A job that still holds its uploads, with one stored result (photo + thumbnail)."""
    consent = consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1")
    job = services.job_create(
        user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("biden.jpg")], consent=consent
    )
    result = result_create(
        job=job, scene=concept.scenes.first(), variant=0, image=np.full((300, 420, 3), 120, np.uint8),
        max_side=800, thumb_side=200,
    )
    return job, result


def own_files(job: Job, result: Result) -> set[str]:
    return {result.image.name, result.thumbnail.name, *(p.file.name for p in job.photos.all())}


@pytest.fixture
def admin_client(client, django_user_model, password):
    staff = django_user_model.objects.create_user(
        email="boss@example.com", password=password, is_staff=True, is_superuser=True
    )
    client.force_login(staff)
    return client


def _assert_gone(root, files: set[str], job_ids=()) -> None:
    left = files_on_disk(root)
    assert files and not (files & left), files & left
    for public_id in job_ids:
        assert not (root / "uploads" / str(public_id)).exists()


def test_admin_single_delete_of_a_job_removes_its_uploads_results_and_thumbnails(admin_client, user, _private_media):
    concept = build_concept()
    job, result = job_with_files(user, concept)
    files = own_files(job, result)
    assert files <= files_on_disk(_private_media) and len(files) == 4
    response = admin_client.post(reverse("admin:studio_job_delete", args=[job.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Job.objects.filter(pk=job.pk).exists()
    _assert_gone(_private_media, files, [job.public_id])


def test_admin_bulk_delete_of_jobs_removes_their_files(admin_client, user, other_user, _private_media):
    concept = build_concept()
    (j1, r1), (j2, r2) = job_with_files(user, concept), job_with_files(other_user, concept)
    files = own_files(j1, r1) | own_files(j2, r2)
    response = admin_client.post(
        reverse("admin:studio_job_changelist"),
        {"action": "delete_selected", "_selected_action": [j1.pk, j2.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Job.objects.exists()
    _assert_gone(_private_media, files, [j1.public_id, j2.public_id])


def test_admin_single_and_bulk_delete_of_results_remove_their_files(admin_client, user, _private_media):
    concept = build_concept()
    _job, r1 = job_with_files(user, concept)
    r2 = result_create(
        job=_job, scene=concept.scenes.first(), variant=1, image=np.full((300, 420, 3), 60, np.uint8),
        max_side=800, thumb_side=200,
    )
    r3 = result_create(
        job=_job, scene=concept.scenes.first(), variant=2, image=np.full((300, 420, 3), 30, np.uint8),
        max_side=800, thumb_side=200,
    )
    single = {r1.image.name, r1.thumbnail.name}
    assert admin_client.post(reverse("admin:gallery_result_delete", args=[r1.pk]), {"post": "yes"}).status_code == 302
    _assert_gone(_private_media, single)
    bulk = {r2.image.name, r2.thumbnail.name, r3.image.name, r3.thumbnail.name}
    response = admin_client.post(
        reverse("admin:gallery_result_changelist"),
        {"action": "delete_selected", "_selected_action": [r2.pk, r3.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Result.objects.exists()
    _assert_gone(_private_media, bulk)


def test_api_delete_removes_the_jobs_files(client, django_user_model, _private_media):
    partner = django_user_model.objects.create_user(email="api@example.com", password="x", is_partner=True)
    token = Token.objects.create(user=partner)
    job, result = job_with_files(partner, build_concept())
    files = own_files(job, result)
    response = client.delete(f"/api/v1/jobs/{job.public_id}/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code in (200, 204)
    _assert_gone(_private_media, files, [job.public_id])


def test_admin_deletes_a_user_with_jobs_and_every_file_goes(admin_client, user, other_user, _private_media):
    concept = build_concept()
    job, result = job_with_files(user, concept)
    files = own_files(job, result)
    confirm = admin_client.get(reverse("admin:accounts_user_delete", args=[user.pk]))
    assert confirm.status_code == 200
    assert "Cannot delete" not in confirm.content.decode() and "protected" not in confirm.content.decode()
    response = admin_client.post(reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    _assert_gone(_private_media, files, [job.public_id])
    assert not (_private_media / "results" / str(user.pk)).exists()

    # ...and the bulk action on the user list
    job2, result2 = job_with_files(other_user, concept)
    files2 = own_files(job2, result2)
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [other_user.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=other_user.pk).exists()
    _assert_gone(_private_media, files2, [job2.public_id])


def test_account_deleted_while_its_job_runs_leaves_no_files(user, monkeypatch, _private_media, caplog):
    """The worker made the photo; the account is deleted just before it writes it: nothing is written
    (the job row is checked under the claim, with the write lock held, before any file)."""
    import gpu_worker.tasks as tasks

    concept = build_concept()
    scenes = files_on_disk(_private_media)
    consent = consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1")
    job = services.job_create(
        user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("biden.jpg")], consent=consent
    )
    real_result_create = tasks.result_create
    calls = []

    def delete_account_then_write(**kwargs):
        calls.append(1)
        user_delete(user=get_user_model().objects.get(pk=user.pk))
        return real_result_create(**kwargs)

    monkeypatch.setattr(tasks, "result_create", delete_account_then_write)
    with caplog.at_level("INFO", logger="gpu_worker.tasks"):
        run_worker()
    assert calls, "the worker never reached the result write"
    assert "gone while running" in caplog.text and "crashed" not in caplog.text  # an expected end, not a crash
    assert not Job.objects.filter(pk=job.pk).exists() and not Result.objects.exists()
    assert files_on_disk(_private_media) == scenes  # only the concept's scene files remain
    assert not (_private_media / "results" / str(user.pk)).exists()
    assert not (_private_media / "uploads" / str(job.public_id)).exists()


def test_private_files_are_0600_in_0700_folders_and_no_empty_folders_stay(user, _private_media):
    concept = build_concept()
    consent = consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1")
    job = services.job_create(
        user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("biden.jpg")], consent=consent
    )
    uploads = [p.file.path for p in job.photos.all()]
    assert uploads
    from pathlib import Path

    for path in uploads:
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600, path
        assert stat.S_IMODE(Path(path).parent.stat().st_mode) == 0o700, path
    run_worker()  # check + swap by a real rq worker: results are written the same way
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, (job.status, job.error_code, job.error_message)
    for path in _private_media.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (str(path), oct(mode))
    assert not (_private_media / "uploads" / str(job.public_id)).exists()
    assert {d for d in empty_dirs(_private_media) if d.startswith("uploads/")} == set()


def test_with_a_media_group_nginx_reads_private_files_and_nobody_else_does(settings, tmp_path):
    """Production (nginx streams files by X-Accel-Redirect): files 0640 / folders 0750, owned by nginx's
    group (loveloveshot/storage.py) — readable by nginx's user, by no one else."""
    import grp
    import os
    import shutil
    import subprocess

    from django.core.files.base import ContentFile

    from loveloveshot.storage import PrivateFileSystemStorage

    is_root = os.geteuid() == 0
    try:
        group = "www-data" if is_root else grp.getgrgid(os.getgid()).gr_name
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        group, gid = grp.getgrgid(os.getgid()).gr_name, os.getgid()
    settings.PRIVATE_MEDIA_GROUP = group
    settings.FILE_UPLOAD_PERMISSIONS, settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o640, 0o750
    root = tmp_path / "private"
    storage = PrivateFileSystemStorage(location=str(root))
    name = storage.save("results/7/photo.jpg", ContentFile(b"\xff\xd8 not really a photo"))
    path = root / name
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.stat().st_gid == gid
    for folder in (path.parent, path.parent.parent, root):
        assert stat.S_IMODE(folder.stat().st_mode) & 0o007 == 0, folder  # nothing for "others"
        assert folder.stat().st_gid == gid, folder
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    if is_root and group == "www-data" and shutil.which("runuser"):
        os.chmod(tmp_path, 0o755)  # pytest's own tmp folders above are not ours to judge
        for parent in tmp_path.parents:
            if stat.S_IMODE(parent.stat().st_mode) & 0o001 == 0:
                os.chmod(parent, parent.stat().st_mode | 0o001)
        readable = subprocess.run(["runuser", "-u", "www-data", "--", "cat", str(path)], capture_output=True)
        assert readable.returncode == 0, readable.stderr
        refused = subprocess.run(["runuser", "-u", "nobody", "--", "cat", str(path)], capture_output=True)
        assert refused.returncode != 0
