from __future__ import annotations

import pytest

from headshots_portal.env import (
    ConfigurationError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_optional_float,
    env_str,
    env_subset,
)
from headshots_portal.settings.queue import dramatiq_settings


def test_bool_refuses_what_it_cannot_read(monkeypatch):
    monkeypatch.setenv("HS_FLAG", "yes")
    assert env_bool("HS_FLAG", False) is True
    monkeypatch.setenv("HS_FLAG", "maybe")
    with pytest.raises(ConfigurationError, match="HS_FLAG"):
        env_bool("HS_FLAG", False)


def test_int_checks_type_and_minimum(monkeypatch):
    monkeypatch.setenv("HS_N", "abc")
    with pytest.raises(ConfigurationError, match="not an integer"):
        env_int("HS_N", 1)
    monkeypatch.setenv("HS_N", "0")
    with pytest.raises(ConfigurationError, match="minimum"):
        env_int("HS_N", 1, minimum=1)


def test_required_secret_has_no_default(monkeypatch):
    monkeypatch.delenv("HS_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="must be set"):
        env_str("HS_SECRET")


def test_file_variant_reads_secret_from_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n")
    monkeypatch.setenv("HS_SECRET_FILE", str(secret))
    assert env_str("HS_SECRET") == "s3cr3t"
    monkeypatch.setenv("HS_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match="cannot be read"):
        env_str("HS_SECRET")


def test_choice_list_and_optional(monkeypatch):
    monkeypatch.setenv("HS_BACKEND", "gpu-magic")
    with pytest.raises(ConfigurationError, match="one of"):
        env_choice("HS_BACKEND", "studio", {"studio"})
    monkeypatch.setenv("HS_LIST", "a.com, b.com,,")
    assert env_list("HS_LIST", []) == ["a.com", "b.com"]
    monkeypatch.delenv("HS_OPT", raising=False)
    assert env_optional_float("HS_OPT") is None
    monkeypatch.setenv("HS_OPT", "0.5")
    assert env_optional_float("HS_OPT") == 0.5


def test_broker_selection(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("RABBITMQ_URL", raising=False)
    assert dramatiq_settings()["HEADSHOTS_QUEUE_MODE"] == "inprocess"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert dramatiq_settings()["DRAMATIQ_BROKER"]["BROKER"].endswith("RedisBroker")
    monkeypatch.setenv("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    with pytest.raises(ConfigurationError, match="not both"):
        dramatiq_settings()


def test_json_object(monkeypatch):
    from headshots_portal.env import env_json_object

    monkeypatch.setenv("HS_JSON", '{"yaw_warn": 20}')
    assert env_json_object("HS_JSON") == {"yaw_warn": 20}
    monkeypatch.setenv("HS_JSON", "[1, 2]")
    with pytest.raises(ConfigurationError, match="JSON object"):
        env_json_object("HS_JSON")
    monkeypatch.setenv("HS_JSON", "{yaw")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        env_json_object("HS_JSON")


def test_subset_keeps_order_drops_repeats_and_names_unknown_items(monkeypatch):
    monkeypatch.delenv("HS_NETS", raising=False)
    assert env_subset("HS_NETS", {"keypoints", "pose"}) == ()
    monkeypatch.setenv("HS_NETS", "pose, keypoints,pose")
    assert env_subset("HS_NETS", {"keypoints", "pose"}) == ("pose", "keypoints")
    monkeypatch.setenv("HS_NETS", "pose,depth")
    with pytest.raises(ConfigurationError, match="HS_NETS names depth"):
        env_subset("HS_NETS", {"keypoints", "pose"})
