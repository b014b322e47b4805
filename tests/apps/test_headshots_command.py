from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command


@pytest.fixture
def files(tmp_path, selfies):
    for name in [
        "selfie-01.png",
        "selfie-02-mirror.jpg",
        "selfie-04-warm.jpg",
        "selfie-10-someone-else.jpg",
        "selfie-09-group.jpg",
    ]:
        (tmp_path / name).write_bytes(selfies[name])
    (tmp_path / "notes.jpg").write_bytes(b"<html>not a photo</html>")
    (tmp_path / "half.jpg").write_bytes(selfies["selfie-04-warm.jpg"][:4000])
    return tmp_path


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command("headshots", "check", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_reports_each_file_and_the_enrollment(files):
    names = [
        "selfie-01.png",
        "selfie-02-mirror.jpg",
        "selfie-04-warm.jpg",
        "selfie-10-someone-else.jpg",
        "selfie-09-group.jpg",
        "notes.jpg",
        "half.jpg",
        "missing.jpg",
    ]
    document = run(*(str(files / n) for n in names))
    by_file = {entry["file"].rsplit("/", 1)[1]: entry for entry in document["photos"]}
    assert by_file["selfie-01.png"]["usable"] is True and by_file["selfie-01.png"]["faces"] == 1
    for check in by_file["selfie-01.png"]["checks"]:
        assert set(check) == {"code", "status", "value", "threshold", "message"}
    group = by_file["selfie-09-group.jpg"]
    assert group["usable"] is False and group["faces"] == 6
    assert by_file["notes.jpg"]["error"]["code"] == "unsupported_format"
    assert by_file["half.jpg"]["error"]["code"] == "truncated"
    assert by_file["missing.jpg"]["error"]["code"] == "unreadable"
    enrollment = document["enrollment"]
    assert enrollment["usable_count"] == 4 and enrollment["consistent"] is False
    assert [o.rsplit("/", 1)[1] for o in enrollment["outliers"]] == ["selfie-10-someone-else.jpg"]


def test_single_photo_has_no_enrollment(files):
    document = run(str(files / "selfie-01.png"))
    assert "enrollment" not in document and document["photos"][0]["usable"] is True


def test_fails_only_when_no_file_was_usable(files):
    with pytest.raises(CommandError, match="No photo was usable"):
        call_command(
            "headshots",
            "check",
            str(files / "notes.jpg"),
            str(files / "selfie-09-group.jpg"),
            stdout=io.StringIO(),
        )
