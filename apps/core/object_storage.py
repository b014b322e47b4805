"""S3-compatible object storage for deployments whose web, CPU and GPU hosts share no
disk (``HEADSHOTS_STORAGE=s3``). Every file with a face in it is encrypted by the portal
before it leaves the process (apps.core.storage), so the bucket never holds one in clear;
keys are ``org-<id>/employee-<id>/<kind>/<random>``: numbers and random names, no names
or addresses. Deleting a file deletes every version of it, so a purge leaves nothing
behind in a versioned bucket either."""

from __future__ import annotations

import logging
from typing import Any

from storages.backends.s3 import S3Storage
from storages.utils import clean_name

logger = logging.getLogger(__name__)


class PrivateS3Storage(S3Storage):
    # names are random: no existence check before each write (one request fewer)
    file_overwrite = True
    default_acl = None
    querystring_auth = True

    def delete(self, name: str) -> None:
        """The object and every earlier version and delete marker of it."""
        key = self._normalize_name(clean_name(name))
        client = self.connection.meta.client
        versions: list[dict[str, Any]] = []
        paginator = client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket_name, Prefix=key):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if entry["Key"] == key:
                    versions.append({"Key": key, "VersionId": entry["VersionId"]})
        if not versions:  # an unversioned bucket lists none: the object alone
            super().delete(name)
            return
        for start in range(0, len(versions), 1000):
            client.delete_objects(
                Bucket=self.bucket_name,
                Delete={"Objects": versions[start : start + 1000], "Quiet": True},
            )
