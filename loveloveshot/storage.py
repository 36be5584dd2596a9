"""Private file storage on local disk, shared by the web processes and the workers.

Files are 0600 in 0700 folders (settings.FILE_UPLOAD_PERMISSIONS / FILE_UPLOAD_DIRECTORY_PERMISSIONS).
When nginx streams them (X-Accel-Redirect), its worker user must read them: with
settings.PRIVATE_MEDIA_GROUP set (production: nginx's group, ``www-data`` on Debian) every file and
folder this storage creates is given that group and is 0640 / 0750 — readable by nginx, never by
anyone else. The service user must be a member of that group (``usermod -aG www-data loveloveshot``)."""

import grp
import logging
import os
from functools import cached_property
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage

logger = logging.getLogger(__name__)


class PrivateFileSystemStorage(FileSystemStorage):
    @cached_property
    def _group_id(self) -> int | None:
        group = getattr(settings, "PRIVATE_MEDIA_GROUP", "") or ""
        if not group:
            return None
        try:
            return grp.getgrnam(group).gr_gid
        except KeyError as exc:
            raise ImproperlyConfigured(f"PRIVATE_MEDIA_GROUP={group!r}: no such group") from exc

    def _save(self, name, content):
        name = super()._save(name, content)
        gid = self._group_id
        if gid is not None:
            root = Path(self.location).resolve()
            path = Path(self.path(name)).resolve()
            try:
                os.chown(path, -1, gid)
                for folder in path.parents:  # the folders this file lives in, up to and including the root
                    if folder != root and root not in folder.parents:
                        break
                    if folder.stat().st_gid != gid:
                        os.chown(folder, -1, gid)
                    if folder == root:
                        break
            except PermissionError:
                logger.error(
                    "Cannot give %s to group %s (PRIVATE_MEDIA_GROUP): add the service user to that group, "
                    "or nginx cannot stream it", name, settings.PRIVATE_MEDIA_GROUP,
                )
                raise
        return name
