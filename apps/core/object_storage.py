"""S3-compatible object storage for deployments whose web, CPU and GPU hosts share no
disk (``HEADSHOTS_STORAGE=s3``). Every file with a face in it is encrypted by the portal
before it leaves the process (apps.core.storage), so the bucket never holds one in clear;
keys are ``org-<id>/employee-<id>/<kind>/<random>``: numbers and random names, no names
or addresses. Deleting a file deletes every version of it, so a purge leaves nothing
behind in a versioned bucket either."""

from __future__ import annotations

import logging
from typing import Any

from boto3.s3.transfer import TransferConfig
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

logger = logging.getLogger(__name__)


class PrivateS3Storage(S3Storage):
    # names are random: no existence check before each write (one request fewer)
    file_overwrite = True
    # a file being read is spooled to disk beyond 1 MB (the default keeps it all in memory)
    max_memory_size = 1024 * 1024
    # what a transfer holds at once, whatever the file's size: a large file is sent in
    # parts of 5 MB (the least S3 takes), two at a time, and received 2 MB ahead at most
    # (boto3's defaults would hold 80 MB while sending and 25 MB while receiving)
    transfer_config = TransferConfig(
        multipart_threshold=8 * 1024 * 1024,
        multipart_chunksize=5 * 1024 * 1024,
        max_concurrency=2,
        max_io_queue=8,
    )
    # parts read ahead of sending them (s3transfer's own setting; boto3 holds 10)
    transfer_config.max_in_memory_upload_chunks = 2
    transfer_config.max_in_memory_download_chunks = 8
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
