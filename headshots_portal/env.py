"""The one place that reads the environment.

Every reader fails loudly on a value it cannot understand, so a typo in a
deployment stops the process at start-up instead of changing behaviour.
A variable ``NAME_FILE`` may hold the path of a file whose content is the value
(for secrets mounted by an orchestrator).
"""

from __future__ import annotations

import os
from pathlib import Path


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed."""


_MISSING = object()


def _raw(name: str) -> str | None:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ConfigurationError(
                f"{name}_FILE points to {file_path!r}, which cannot be read: {exc}"
            ) from exc
    return os.environ.get(name)


def env_str(name: str, default: str | object = _MISSING) -> str:
    value = _raw(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ConfigurationError(f"The environment variable {name} must be set.")
        return default  # type: ignore[return-value]
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name}={value!r} is not a boolean; use true or false.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={value!r} is not an integer.") from exc
    if minimum is not None and number < minimum:
        raise ConfigurationError(f"{name}={number} is below its minimum of {minimum}.")
    return number


def env_float(name: str, default: float) -> float:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={value!r} is not a number.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None or value == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_subset(name: str, choices: set[str]) -> tuple[str, ...]:
    """A comma-separated subset of ``choices`` (empty when unset), in the given order."""
    values = env_list(name, [])
    unknown = [value for value in values if value not in choices]
    if unknown:
        raise ConfigurationError(
            f"{name} names {', '.join(unknown)}; each item must be one of {', '.join(sorted(choices))}."
        )
    return tuple(dict.fromkeys(values))


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ConfigurationError(f"{name}={value!r} must be one of {', '.join(sorted(choices))}.")
    return value


def env_optional_float(name: str) -> float | None:
    """A number, or None when the variable is unset or empty."""
    value = _raw(name)
    if value is None or value.strip() == "":
        return None
    return env_float(name, 0.0)


def env_json_object(name: str) -> dict[str, object]:
    """A JSON object, or {} when unset."""
    import json

    value = _raw(name)
    if value is None or value.strip() == "":
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{name} is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ConfigurationError(f'{name} must be a JSON object like {{"yaw_warn": 20}}.')
    return parsed
