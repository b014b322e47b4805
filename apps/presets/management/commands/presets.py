from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipeline.presets import BrandPreset, PresetInvalid


class Command(BaseCommand):
    help = "Work with brand preset files: `presets validate FILE [FILE ...]` explains every error by field."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        validate = sub.add_parser("validate", help="Validate preset YAML files.")
        validate.add_argument("files", nargs="+", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        failures = 0
        for path in options["files"]:
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
                preset = BrandPreset.from_mapping(data)
            except OSError as exc:
                failures += 1
                self.stderr.write(f"{path}: cannot be read: {exc.strerror or exc}")
            except yaml.YAMLError as exc:
                failures += 1
                self.stderr.write(f"{path}: is not valid YAML: {exc}")
            except PresetInvalid as exc:
                failures += 1
                self.stderr.write(f"{path}: {len(exc.problems)} problem(s)")
                for problem in exc.problems:
                    self.stderr.write(f"  - {problem}")
            else:
                self.stdout.write(
                    f"{path}: valid ({preset.slug}, {len(preset.outputs)} output size(s))"
                )
        if failures:
            raise CommandError(f"{failures} file(s) are not valid presets.")
