"""2. Faces: detection, landmarks and identity embeddings, and the geometry read from them.

- ``analysis``     the ``Face`` and the ``FaceAnalyzer`` protocol; dlib's analyzer (the
                   models that ship in packages)
- ``insightface``  the insightface analyzer (models the operator installs)
- ``geometry``     head pose, eye distance, aligned crops
- ``regions``      named regions of a face (cheeks, eyes, hair) measured from its landmarks
"""

from __future__ import annotations

from pipeline.faces.analysis import DlibFaceAnalyzer, Face, FaceAnalyzer, cosine, normalise

__all__ = ["DlibFaceAnalyzer", "Face", "FaceAnalyzer", "cosine", "normalise"]
