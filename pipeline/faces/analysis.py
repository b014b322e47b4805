"""Face analysis: detection, landmarks and identity embeddings.

The default backend is dlib with the models of the ``face_recognition_models``
package (real weights shipped in a registry package). Another backend
(insightface from a configured model directory) implements the same interface.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from pipeline.errors import ModelMissing
from pipeline.faces.blazeface import OVERLAP, BlazeFaceDetector, overlap

if TYPE_CHECKING:
    from pipeline.faces.mesh import FaceMesh

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in image pixels
    score: float
    landmarks: np.ndarray = field(repr=False)  # 5 x 2, dlib order (see eye_centres)
    landmarks68: np.ndarray | None = field(default=None, repr=False)  # when that model is enabled
    # "dlib5": two corners of each eye, then the point below the nose.
    # "arcface5": the eye centres, the nose tip, the mouth corners (SCRFD's keypoints).
    scheme: str = "dlib5"

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def area(self) -> float:
        return self.width * self.height

    def eye_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(left-in-image, right-in-image) eye centres."""
        if self.scheme == "arcface5":
            first, second = self.landmarks[0], self.landmarks[1]
        else:
            first = self.landmarks[0:2].mean(axis=0)
            second = self.landmarks[2:4].mean(axis=0)
        return (first, second) if first[0] < second[0] else (second, first)

    def moved(self, *, offset: tuple[float, float], scale: float) -> Face:
        """The same face in an image cropped at ``offset`` and then scaled by ``scale``."""
        shift = np.asarray(offset, dtype=np.float64)
        x0, y0, x1, y1 = self.box
        return Face(
            box=(
                (x0 - shift[0]) * scale,
                (y0 - shift[1]) * scale,
                (x1 - shift[0]) * scale,
                (y1 - shift[1]) * scale,
            ),
            score=self.score,
            landmarks=(self.landmarks - shift) * scale,
            landmarks68=None if self.landmarks68 is None else (self.landmarks68 - shift) * scale,
            scheme=self.scheme,
        )

    def transformed(self, matrix: np.ndarray) -> Face:
        """The same face in the image a 2 x 3 affine ``matrix`` makes (a framing)."""

        def apply(points: np.ndarray) -> np.ndarray:
            return np.asarray(points, dtype=np.float64) @ matrix[:, :2].T + matrix[:, 2]

        x0, y0, x1, y1 = self.box
        corners = apply(np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]))
        low, high = corners.min(axis=0), corners.max(axis=0)
        return Face(
            box=(float(low[0]), float(low[1]), float(high[0]), float(high[1])),
            score=self.score,
            landmarks=apply(self.landmarks),
            landmarks68=None if self.landmarks68 is None else apply(self.landmarks68),
            scheme=self.scheme,
        )

    def nose(self) -> np.ndarray:
        """The scheme's nose point: below the nose (dlib5) or the nose tip (arcface5)."""
        return self.landmarks[2] if self.scheme == "arcface5" else self.landmarks[4]


class FaceAnalyzer(Protocol):
    name: str
    same_person_threshold: float

    def detect(self, pixels: np.ndarray) -> list[Face]: ...

    def embed(self, pixels: np.ndarray, face: Face) -> np.ndarray: ...


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def normalise(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) + 1e-12)


# Where HOG's box lies around a face, from the eyes' midpoint, in eye distances (the
# median over the package-shipped faces): left, top, right, bottom.
BOX_FROM_EYES = (-1.3, -0.8, 1.3, 1.6)
# dlib's five points from the face mesh, in dlib's order: the outer and inner corner of the
# eye on the image's right, then of the other eye, then the point below the nose.
DLIB5_FROM_MESH = (263, 362, 33, 133, 2)
MESH_MIN_SCORE = 0.5


def _box_from_eyes(first: np.ndarray, second: np.ndarray) -> tuple[float, float, float, float]:
    middle = (np.asarray(first) + np.asarray(second)) / 2.0
    iod = max(float(np.linalg.norm(np.asarray(second) - np.asarray(first))), 1.0)
    left, top, right, bottom = BOX_FROM_EYES
    return (
        float(middle[0] + left * iod),
        float(middle[1] + top * iod),
        float(middle[0] + right * iod),
        float(middle[1] + bottom * iod),
    )


class DlibFaceAnalyzer:
    """dlib HOG detector, 5-point landmarks and the 128-d ResNet embedding."""

    name = "dlib-resnet-v1"
    # Calibrated on package-shipped photos: the same person (mirrored, blurred)
    # scores >= 0.96 cosine, different people <= 0.91.
    same_person_threshold = 0.93
    files = {
        "landmarks": "shape_predictor_5_face_landmarks.dat",
        "embedding": "dlib_face_recognition_resnet_model_v1.dat",
    }
    # Trained on iBUG 300-W, whose licence excludes commercial use: loaded only when
    # the operator enables it (it lets the checks tell closed eyes).
    landmarks68_file = "shape_predictor_68_face_landmarks.dat"

    def __init__(
        self,
        *,
        min_detection_score: float = 0.3,
        detect_max_side: int = 1024,
        small_face_max_side: int = 800,
        landmarks68: bool = False,
        detector: BlazeFaceDetector | None = None,
        mesh: FaceMesh | None = None,
    ) -> None:
        self.use_landmarks68 = landmarks68
        # A detector that finds faces of every skin tone, and the face mesh that
        # places the landmarks of the faces only it finds (None: HOG alone).
        if (detector is None) != (mesh is None):
            raise ValueError("the face detector and the face mesh come together")
        self.detector = detector
        self.mesh = mesh
        self._landmarks68: Any = None
        # The HOG detector reports weak false hits on clothing and patterns.
        self.min_detection_score = min_detection_score
        # First pass: no upsampling at detect_max_side (finds faces of about 80 px and up
        # there, a selfie's usual case). Second pass, only when the first finds nothing:
        # upsampled once at small_face_max_side (faces down to about 40 px).
        self.detect_max_side = detect_max_side
        self.small_face_max_side = small_face_max_side
        self._detector: Any = None
        self._landmarks: Any = None
        self._embedder: Any = None
        # dlib's networks keep working buffers inside the object: two threads calling one
        # at once corrupt its memory. Parallelism comes from worker processes instead.
        self._native = threading.Lock()

    def load(self, model_dir: str | Path | None = None) -> DlibFaceAnalyzer:
        import dlib

        directory = Path(model_dir) if model_dir else self.default_model_dir()
        files = dict(self.files)
        if self.use_landmarks68:
            files["landmarks68"] = self.landmarks68_file
        paths = {role: directory / filename for role, filename in files.items()}
        missing = [str(path) for path in paths.values() if not path.is_file()]
        if missing:
            raise ModelMissing(
                "Face model files are missing: " + ", ".join(missing) + ". Install them with "
                "`pip install face_recognition_models==0.3.0` or `python manage.py models install`.",
                code="model_missing",
            )
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(paths["landmarks"]))
        self._embedder = dlib.face_recognition_model_v1(str(paths["embedding"]))
        if self.use_landmarks68:
            self._landmarks68 = dlib.shape_predictor(str(paths["landmarks68"]))
        return self

    @staticmethod
    def default_model_dir() -> Path:
        """The model folder inside the installed face_recognition_models package.

        Found without importing the package: its __init__ needs pkg_resources,
        which setuptools 81 and newer no longer ship.
        """
        import importlib.util

        spec = importlib.util.find_spec("face_recognition_models")
        if spec is None or spec.origin is None:
            raise ModelMissing(
                "The package face_recognition_models is not installed; run "
                "`pip install face_recognition_models==0.3.0`.",
                code="model_missing",
            )
        return Path(spec.origin).parent / "models"

    def _require_loaded(self) -> None:
        if self._detector is None:
            raise RuntimeError("DlibFaceAnalyzer.load() must be called first")

    def detect(self, pixels: np.ndarray) -> list[Face]:
        self._require_loaded()
        with self._native:
            return self._detect(pixels)

    def _detect(self, pixels: np.ndarray) -> list[Face]:
        import dlib

        from pipeline.imaging import downscale

        small, scale = downscale(pixels, self.detect_max_side)
        rects, scores, _ = self._detector.run(small, 0, 0.0)
        if not any(score >= self.min_detection_score for score in scores):
            small, scale = downscale(pixels, self.small_face_max_side)
            rects, scores, _ = self._detector.run(small, 1, 0.0)
        faces = []
        for rect, score in zip(rects, scores, strict=True):
            if score < self.min_detection_score:
                continue
            x0, y0 = rect.left() / scale, rect.top() / scale
            x1, y1 = rect.right() / scale, rect.bottom() / scale
            full = dlib.rectangle(round(x0), round(y0), round(x1), round(y1))
            shape = self._landmarks(pixels, full)
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
            points68 = None
            if self._landmarks68 is not None:
                shape68 = self._landmarks68(pixels, full)
                points68 = np.array([(p.x, p.y) for p in shape68.parts()], dtype=np.float64)
            faces.append(
                Face(
                    box=(x0, y0, x1, y1),
                    score=float(score),
                    landmarks=points,
                    landmarks68=points68,
                )
            )
        if self.detector is not None:
            faces += self._faces_only_found_by_the_detector(pixels, faces)
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def _faces_only_found_by_the_detector(
        self, pixels: np.ndarray, found: list[Face]
    ) -> list[Face]:
        """Faces the MediaPipe detector finds and HOG missed. Their five landmarks come from
        the face mesh (dlib's landmark model, like HOG, loses its way on faces with deep
        skin tones), in dlib's order: two corners of each eye, the point below the nose;
        the box is placed from the eyes as HOG would have drawn it."""
        assert self.detector is not None and self.mesh is not None
        faces = []
        for detection in self.detector(pixels):
            if any(overlap(detection.box, f.box) > OVERLAP for f in found):
                continue
            seed = Face(
                box=detection.box,
                score=detection.score,
                landmarks=detection.keypoints[[0, 1, 2, 3, 3]],
                scheme="arcface5",
            )
            mesh = self.mesh(pixels, seed)
            if mesh.score < MESH_MIN_SCORE:
                continue  # not a face the mesh can see: no landmarks to trust
            points = mesh.points[list(DLIB5_FROM_MESH)]
            box = _box_from_eyes(points[0:2].mean(axis=0), points[2:4].mean(axis=0))
            points68 = None
            if self._landmarks68 is not None:
                import dlib

                shape68 = self._landmarks68(pixels, dlib.rectangle(*(round(v) for v in box)))
                points68 = np.array([(p.x, p.y) for p in shape68.parts()], dtype=np.float64)
            faces.append(
                Face(box=box, score=detection.score, landmarks=points, landmarks68=points68)
            )
        return faces

    def embed(self, pixels: np.ndarray, face: Face) -> np.ndarray:
        import dlib

        self._require_loaded()
        rect = dlib.rectangle(*(round(v) for v in face.box))
        with self._native:
            if face.scheme == "dlib5":  # the face's own five points align the crop
                shape = dlib.full_object_detection(
                    rect, [dlib.point(round(x), round(y)) for x, y in face.landmarks]
                )
            else:
                shape = self._landmarks(pixels, rect)
            descriptor = self._embedder.compute_face_descriptor(pixels, shape)
        return normalise(np.asarray(descriptor, dtype=np.float64))
