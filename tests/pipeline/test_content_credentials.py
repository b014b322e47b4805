"""C2PA Content Credentials: signed into every candidate when a key is configured, read
back by the C2PA reference library, and broken by any change to the picture."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pipeline.content_credentials import (
    ContentCredentials,
    CredentialsInvalid,
    make_test_chain,
    read_manifest,
)
from pipeline.errors import PipelineError
from pipeline.imaging import encode
from pipeline.orchestrator import HeadshotPipeline, PipelineConfig
from pipeline.presets import BrandPreset, load_shipped
from pipeline.provenance import COMPOSITE_SYNTHETIC, read_digital_source_type
from tests.pipeline.helpers import generate_from_one_photo


@pytest.fixture(scope="module")
def chain():
    return make_test_chain("Acme Corp")


@pytest.fixture(scope="module")
def signed_result(chain, analyzer, astronaut_rgb):
    data = load_shipped()["corporate-executive"].model_dump(mode="json")
    data["generation"].update(variations=1)
    data["outputs"] = [{"name": "web", "width": 512, "height": 640, "format": "jpeg"}]
    preset = BrandPreset.from_mapping(data)
    config = PipelineConfig(
        segmentation="grabcut",
        retouch_landmarks="five-point",
        min_usable_photos=1,
        c2pa_cert_chain=chain[0],
        c2pa_private_key=chain[1],
    )
    pipeline = HeadshotPipeline(analyzer, config)
    result, _ = generate_from_one_photo(pipeline, encode(astronaut_rgb), preset, base_seed=5)
    return result


def test_every_candidate_carries_a_valid_manifest_that_says_what_made_it(signed_result):
    candidate = signed_result.candidates[0]
    report = read_manifest(candidate.encoded)
    assert report is not None
    assert report.state in {"Valid", "Trusted"} and not report.tampered, report.failures
    assert report.digital_source_type() == COMPOSITE_SYNTHETIC
    assert report.generation() == {
        "generator": "studio-looks-v2",
        "preset": "corporate-executive",
        "preset_version": 1,
        "seed": 5,
    }
    assert report.manifest["signature_info"]["common_name"] == "Acme Corp headshots"
    assert candidate.info["content_credentials"] == "O=Acme Corp,CN=Acme Corp headshots"


def test_signing_keeps_the_pixels_and_the_xmp(signed_result):
    candidate = signed_result.candidates[0]
    image = Image.open(io.BytesIO(candidate.encoded))
    assert read_digital_source_type(image.info["xmp"]) == COMPOSITE_SYNTHETIC
    assert "exif" not in image.info
    unsigned = np.asarray(Image.open(io.BytesIO(encode(candidate.pixels, quality=93))))
    assert np.abs(np.asarray(image).astype(int) - unsigned).max() <= 1


def test_a_changed_picture_is_reported_as_tampered(signed_result):
    data = bytearray(signed_result.candidates[0].encoded)
    data[-500] ^= 0x55  # inside the entropy-coded image data
    report = read_manifest(bytes(data))
    assert report is not None and report.state == "Invalid" and report.tampered


def test_an_unsigned_file_has_no_manifest():
    assert read_manifest(encode(np.zeros((32, 32, 3), np.uint8))) is None


def test_a_key_that_does_not_match_the_chain_is_refused_at_start(chain):
    _, other_key = make_test_chain("Someone Else")
    with pytest.raises(CredentialsInvalid, match="signature does not match"):
        ContentCredentials(chain[0], other_key)


def test_bad_configuration_is_named(chain, analyzer):
    with pytest.raises(CredentialsInvalid, match="not an unencrypted PEM key"):
        ContentCredentials(chain[0], "not a key")
    with pytest.raises(CredentialsInvalid, match="not PEM certificates"):
        ContentCredentials("not a certificate", chain[1])
    with pytest.raises(PipelineError, match="needs both"):
        HeadshotPipeline(analyzer, PipelineConfig(c2pa_cert_chain=chain[0]))


def test_the_private_key_stays_out_of_the_configuration_repr(chain):
    config = PipelineConfig(c2pa_cert_chain=chain[0], c2pa_private_key=chain[1])
    assert "PRIVATE KEY" not in repr(config) and "CERTIFICATE" not in repr(config)
