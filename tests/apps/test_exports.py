"""Download packs: every size people need, with the provenance kept."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.publishing.exports import EXPORT_SIZES
from apps.publishing.services import headshot_export
from pipeline.provenance import COMPOSITE_SYNTHETIC, read_digital_source_type


def test_a_person_downloads_every_size_with_its_provenance(approved):
    c, _ = approved
    data = headshot_export(organization=c.org, actor=c.employee_user, employee=c.employee)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(archive.namelist())
    assert "README.txt" in names
    expected = {f"pat-o-brien/pat-o-brien-{s.name}-{s.side}.jpg": s.side for s in EXPORT_SIZES}
    assert set(expected) <= set(names)
    for name, side in expected.items():
        image = Image.open(io.BytesIO(archive.read(name)))
        assert image.size == (side, side) and image.format == "JPEG"
        assert read_digital_source_type(image.info["xmp"]) == COMPOSITE_SYNTHETIC
        assert "exif" not in image.info


def test_hr_exports_a_team_and_nobody_else_reaches_anyone_elses(approved, globex):
    c, _ = approved
    team = zipfile.ZipFile(
        io.BytesIO(headshot_export(organization=c.org, actor=c.hr, department="R&D"))
    )
    assert any(name.startswith("pat-o-brien/") for name in team.namelist())
    with pytest.raises(PermissionDenied):
        headshot_export(organization=c.org, actor=c.employee_user, department="R&D")
    with pytest.raises(NotFound):
        headshot_export(organization=c.org, actor=c.approver, employee=c.employee)
    with pytest.raises(NotFound):  # another company's HR: not theirs, and no hint it exists
        headshot_export(organization=globex.org, actor=globex.hr, employee=c.employee)
    with pytest.raises(ValidationFailed):
        headshot_export(organization=c.org, actor=c.hr)
