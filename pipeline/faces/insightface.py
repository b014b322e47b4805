"""The insightface face backend: SCRFD detection and ArcFace 512-d embeddings.

Model files come from a configured directory, ``MODEL_DIR/insightface/<pack>/``;
nothing is ever downloaded. The pretrained packs (buffalo_l, antelopev2) are
licensed for non-commercial research only: see ``manage.py models list``.
insightface is imported only here, only when this backend is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ModelMissing, PipelineError
from pipeline.faces.analysis import Face, normalise

INSTALL_HINT = (
    "Copy the pack's detection and recognition .onnx files into that folder (for example "
    "buffalo_l's det_10g.onnx and w600k_r50.onnx) and check their licence, which may exclude "
    "commercial use; the Python packages install with `pip install --no-deps insightface==2.1` "
    "and `pip install onnxruntime onnx scikit-image`."
)


class InsightFaceAnalyzer:
    name = "insightface-arcface"
    # insightface's own demos treat a cosine of 0.28 or more as one person for buffalo_l.
    same_person_threshold = 0.28

    def __init__(
        self,
        *,
        pack: str = "buffalo_l",
        detection_file: str = "det_10g.onnx",
        recognition_file: str = "w600k_r50.onnx",
        det_size: int = 640,
        min_detection_score: float = 0.5,
    ) -> None:
        self.pack = pack
        self.detection_file = detection_file
        self.recognition_file = recognition_file
        self.det_size = det_size
        self.min_detection_score = min_detection_score
        self._detector: Any = None
        self._recognizer: Any = None

    def model_paths(self, model_dir: Path) -> dict[str, Path]:
        folder = Path(model_dir) / "insightface" / self.pack
        return {
            "detection": folder / self.detection_file,
            "recognition": folder / self.recognition_file,
        }

    def load(self, model_dir: str | Path) -> InsightFaceAnalyzer:
        paths = self.model_paths(Path(model_dir))
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise ModelMissing(
                "insightface model files are missing: " + ", ".join(missing) + ". " + INSTALL_HINT,
                code="model_missing",
            )
        try:
            from insightface.model_zoo import get_model
            from insightface.model_zoo.arcface_onnx import ArcFaceONNX
            from insightface.model_zoo.scrfd import SCRFD
        except ImportError as exc:
            raise ModelMissing(
                f"insightface cannot be imported ({exc}). {INSTALL_HINT}", code="model_missing"
            ) from exc
        providers = ["CPUExecutionProvider"]
        detector = get_model(str(paths["detection"]), providers=providers)
        recognizer = get_model(str(paths["recognition"]), providers=providers)
        if not isinstance(detector, SCRFD):
            raise PipelineError(
                f"{paths['detection']} is not a face detection model (SCRFD layout expected).",
                code="model_wrong_role",
            )
        if not isinstance(recognizer, ArcFaceONNX):
            raise PipelineError(
                f"{paths['recognition']} is not a face recognition model (one output, square input).",
                code="model_wrong_role",
            )
        detector.prepare(
            ctx_id=-1,
            input_size=(self.det_size, self.det_size),
            det_thresh=self.min_detection_score,
        )
        recognizer.prepare(ctx_id=-1)
        self._detector, self._recognizer = detector, recognizer
        return self

    def _require_loaded(self) -> None:
        if self._detector is None:
            raise RuntimeError("InsightFaceAnalyzer.load() must be called first")

    def detect(self, pixels: np.ndarray) -> list[Face]:
        self._require_loaded()
        bgr = np.ascontiguousarray(pixels[:, :, ::-1])
        boxes, keypoints = self._detector.detect(bgr, max_num=0)
        faces = []
        for index, row in enumerate(boxes):
            x0, y0, x1, y1, score = (float(v) for v in row[:5])
            points = (
                np.asarray(keypoints[index], dtype=np.float64) if keypoints is not None else None
            )
            if points is None:
                raise PipelineError(
                    "The detection model gives no keypoints; a 9-output SCRFD model is needed."
                )
            faces.append(
                Face(box=(x0, y0, x1, y1), score=score, landmarks=points, scheme="arcface5")
            )
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def embed(self, pixels: np.ndarray, face: Face) -> np.ndarray:
        return normalise(self.raw_embedding(pixels, face))

    def raw_embedding(self, pixels: np.ndarray, face: Face) -> np.ndarray:
        """ArcFace's output before normalisation (its length grows with how clearly the
        face shows): what InstantID was trained on."""
        from insightface.utils import face_align

        self._require_loaded()
        bgr = np.ascontiguousarray(pixels[:, :, ::-1])
        size = self._recognizer.input_size[0]
        aligned = face_align.norm_crop(
            bgr, landmark=face.landmarks.astype(np.float32), image_size=size
        )
        return np.asarray(self._recognizer.get_feat(aligned), dtype=np.float64).ravel()
