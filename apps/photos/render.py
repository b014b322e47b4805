"""`manage.py headshots render`: the whole pipeline on a folder of selfies."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.photos.cli import check_file, load_pipeline


def _preset(name: str) -> Any:
    from pipeline.presets import BrandPreset, PresetInvalid, load_shipped

    path = Path(name)
    try:
        if path.suffix in {".yaml", ".yml"} or path.is_file():
            return BrandPreset.load(path)
    except (OSError, PresetInvalid) as exc:
        raise CommandError(f"{name} is not a usable preset: {exc}") from exc
    shipped = load_shipped()
    if name not in shipped:
        raise CommandError(
            f"No shipped preset {name!r}; choose one of {', '.join(sorted(shipped))} or give a YAML file."
        )
    return shipped[name]


def _bar(percent: int, stage: str) -> None:
    filled = percent // 5
    sys.stderr.write(f"\r[{'#' * filled}{' ' * (20 - filled)}] {percent:3d}% {stage:<20}")
    sys.stderr.flush()


def render_folder(command: BaseCommand, options: dict[str, Any]) -> None:
    from pipeline.errors import PipelineError
    from pipeline.imaging import encode, fit_output
    from pipeline.orchestrator import PhotoRecord
    from pipeline.provenance import xmp_packet

    preset = _preset(options["preset"])
    folder: Path = options["photos"]
    if not folder.is_dir():
        raise CommandError(f"{folder} is not a folder.")
    pipeline = load_pipeline()
    files = sorted(p for p in folder.iterdir() if p.is_file())
    records, refused = [], []
    for index, path in enumerate(files):
        _bar(round(30 * index / max(len(files), 1)), "checking photos")
        analysis, error = check_file(pipeline, path)
        if analysis is None:
            refused.append(
                {"file": path.name, "error": error["message"] if error else "not readable"}
            )
            continue
        selfie = analysis.selfie(path.name)
        if analysis.embedding is None or selfie is None:
            problems = [c.message for c in analysis.report.checks if c.status == "fail"]
            refused.append({"file": path.name, "error": " ".join(problems) or "not usable"})
            continue
        records.append(
            PhotoRecord(
                key=path.name,
                embedding=analysis.embedding,
                attributes=analysis.report.attributes,
                load=path.read_bytes,
                selfie=selfie,
            )
        )
    try:
        outcome = pipeline.run(
            photos=records,
            preset=preset,
            preset_version=0,
            base_seed=options["seed"],
            progress=lambda p, s: _bar(30 + round(p * 0.6), s),
        )
    except PipelineError as exc:
        sys.stderr.write("\n")
        raise CommandError(exc.message) from exc
    result, enrollment = outcome.result, outcome.enrollment
    ranking = {r.key: r for r in outcome.ranking}
    out: Path = options["out"]
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for candidate in result.candidates:
        scored = ranking[candidate.key]
        files_written = []
        for size in preset.outputs:
            xmp = xmp_packet(
                digital_source_type=result.digital_source_type,
                generator=result.backend,
                preset=preset.slug,
                preset_version=0,
                seed=candidate.seed,
            )
            name = f"{candidate.key}-{size.name}.{'jpg' if size.format == 'jpeg' else size.format}"
            (out / name).write_bytes(
                encode(fit_output(candidate.pixels, size), fmt=size.format, quality=93, xmp=xmp)
            )
            files_written.append(name)
        rows.append(
            {
                "file": files_written[0],
                "files": files_written,
                "backend": result.backend,
                "seed": candidate.seed,
                "source": candidate.source_key,
                "scores": scored.scores,
                "accepted": scored.accepted,
                "reason": scored.reason,
                "rank": scored.rank,
                "prompt": candidate.prompt,
            }
        )
    rows.sort(key=lambda row: (row["rank"] is None, row["rank"] or 0))
    document = {
        "preset": preset.slug,
        "face_backend": pipeline.analyzer.name,
        "outliers": enrollment.outliers,
        "refused": refused,
        "candidates": rows,
    }
    (out / "candidates.json").write_text(json.dumps(document, indent=2))
    _bar(100, "done")
    sys.stderr.write("\n")
    if options["json"]:
        command.stdout.write(json.dumps(document, indent=2))
    else:
        for row in rows:
            verdict = f"rank {row['rank']}" if row["accepted"] else f"rejected: {row['reason']}"
            command.stdout.write(
                f"{row['file']:<22} identity {row['scores']['identity']:.3f}  {verdict}"
            )
        command.stdout.write(f"wrote {len(rows)} candidates to {out}/ (candidates.json)")
