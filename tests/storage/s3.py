"""An S3-compatible server on loopback (moto in server mode) with a versioned bucket, for
the object-storage tests."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

BUCKET = "headshots-private"
SHARED_KEY = "ZmRZc2lQb0ZzM3dVZ0dUbVhHZ2R4WjlmU3VfZ0o2V1k="  # a Fernet key for the tests
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class Bucket:
    url: str
    name: str
    client: Any

    def keys(self, prefix: str = "") -> list[str]:
        found = self.client.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return [entry["Key"] for entry in found.get("Contents", [])]

    def versions(self, prefix: str = "") -> list[str]:
        """Every version and delete marker left under ``prefix``."""
        found = self.client.list_object_versions(Bucket=self.name, Prefix=prefix)
        return [e["Key"] for e in found.get("Versions", []) + found.get("DeleteMarkers", [])]

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    @property
    def settings(self) -> dict[str, str]:
        """The portal's variables for this bucket."""
        return {
            "HEADSHOTS_STORAGE": "s3",
            "HEADSHOTS_S3_BUCKET": self.name,
            "HEADSHOTS_S3_ENDPOINT_URL": self.url,
            # every host shares the key (the settings refuse s3 storage without one)
            "HEADSHOTS_ENCRYPTION_KEYS": SHARED_KEY,
            **CREDENTIALS,
        }


@contextlib.contextmanager
def running_bucket(monkeypatch: Any = None, *, own_process: bool = False) -> Iterator[Bucket]:
    """A versioned bucket on a server started here: in a thread of this process, or in a
    process of its own (``own_process``: for measuring this process's memory alone)."""
    import subprocess
    import sys
    import time

    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    if own_process:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as knock:
                if knock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the S3-compatible test server did not start")
            time.sleep(0.1)
        server: Any = process
        server.stop = lambda: (process.terminate(), process.wait(10))
    else:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        client = boto3.client(
            "s3",
            endpoint_url=url,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        )
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield Bucket(url, BUCKET, client)
    finally:
        server.stop()
