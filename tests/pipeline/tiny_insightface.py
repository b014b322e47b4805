"""Tiny ONNX models in the layouts insightface's router accepts, built with onnx.helper.

- a recogniser: a real (random, seeded) conv + matmul network, 112 x 112 in, 512 out;
- an SCRFD-layout detector for a 640 x 640 input: nine outputs (scores, boxes and
  keypoints for strides 8, 16, 32, two anchors each, rank 2), whose values are
  constants that place one face where the test says, tied to the input so the
  graph consumes it. insightface's own decoding, NMS and keypoint code runs on them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 13)]
DET_SIZE = 640
STRIDES = (8, 16, 32)
ANCHORS = 2


def build_recognizer(path: Path, *, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    conv = numpy_helper.from_array(rng.normal(0, 0.05, (8, 3, 8, 8)).astype(np.float32), "conv_w")
    dense = numpy_helper.from_array(
        rng.normal(0, 0.05, (8 * 14 * 14, 512)).astype(np.float32), "fc_w"
    )
    nodes = [
        helper.make_node("Conv", ["data", "conv_w"], ["features"], strides=[8, 8], name="conv0"),
        helper.make_node("Relu", ["features"], ["activated"], name="relu0"),
        helper.make_node("Flatten", ["activated"], ["flat"], axis=1, name="flatten0"),
        helper.make_node("MatMul", ["flat", "fc_w"], ["fc1"], name="fc1"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_arcface",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 112, 112])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["N", 512])],
        [conv, dense],
    )
    return _save(graph, path)


def build_detector(
    path: Path, *, box: tuple[float, float, float, float], keypoints: np.ndarray
) -> Path:
    """A detector that finds one face at ``box`` with ``keypoints`` (5 x 2), in the
    coordinates of its 640 x 640 input."""
    x0, y0, x1, y1 = box
    stride = 32
    cells = DET_SIZE // stride
    col, row = int((x0 + x1) / 2 // stride), int((y0 + y1) / 2 // stride)
    centre = np.array([col * stride, row * stride], dtype=np.float32)
    anchor = (row * cells + col) * ANCHORS
    outputs: dict[str, np.ndarray] = {}
    for s in STRIDES:
        count = (DET_SIZE // s) ** 2 * ANCHORS
        scores = np.zeros((count, 1), np.float32)
        boxes = np.zeros((count, 4), np.float32)
        points = np.zeros((count, 10), np.float32)
        if s == stride:
            scores[anchor, 0] = 0.93
            boxes[anchor] = [
                (centre[0] - x0) / s,
                (centre[1] - y0) / s,
                (x1 - centre[0]) / s,
                (y1 - centre[1]) / s,
            ]
            points[anchor] = ((keypoints - centre) / s).ravel()
        outputs[f"score_{s}"], outputs[f"bbox_{s}"], outputs[f"kps_{s}"] = scores, boxes, points
    order = [f"{kind}_{s}" for kind in ("score", "bbox", "kps") for s in STRIDES]
    nodes = [
        helper.make_node("ReduceMean", ["input.1"], ["mean"], keepdims=0, name="mean0"),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"], name="mul0"),
    ]
    initializers = [numpy_helper.from_array(np.array(0.0, np.float32), "zero")]
    for name in order:
        initializers.append(numpy_helper.from_array(outputs[name], f"{name}_value"))
        nodes.append(
            helper.make_node("Add", [f"{name}_value", "nothing"], [name], name=f"add_{name}")
        )
    graph = helper.make_graph(
        nodes,
        "tiny_scrfd",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, DET_SIZE, DET_SIZE])],
        [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, list(outputs[n].shape))
            for n in order
        ],
        initializers,
    )
    return _save(graph, path)


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="headshots-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
