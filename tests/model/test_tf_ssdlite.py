"""The TF SSDLite-MobileNetV2 graph converted: anchors, raw outputs and detections against TensorFlow's own run.

`fixtures/tf_ssdlite/reference.npz` holds TF 2.21's outputs on frames of the installed footage
(made by `make_reference.py`); the network input is rebuilt exactly as the graph's preprocessing.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou, clip_boxes_to_image, nms

from ssdlite.assets import AssetError, package_file
from ssdlite.checkpoint import load_checkpoint
from ssdlite.config import AnchorConfig, ModelConfig
from ssdlite.convert.tf_graph import graph_constants, read_graph_def
from ssdlite.convert.tf_ssdlite import convert_tf_ssdlite
from ssdlite.inference.predictor import Detector
from ssdlite.model.build import build_anchor_generator

FIXTURES = Path(__file__).parent / "fixtures" / "tf_ssdlite"
sys.path.insert(0, str(FIXTURES))
from tf_inputs import FOOTAGE, VTEST_FRAMES, checksum, read_frames, tf_network_input  # noqa: E402

REFERENCE = dict(np.load(FIXTURES / "reference.npz"))
TF_XYXY = [1, 0, 3, 2]  # TF's (ymin, xmin, ymax, xmax) / (ty, tx, th, tw) -> ours
IMAGE_SIZE = 300
TF_GRIDS = [(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]  # of TF's feature maps at 300x300 (its "SAME" padding)


@pytest.fixture(scope="module")
def frames() -> list[tuple[int, np.ndarray]]:
    """(fixture row, RGB frame) of every fixture image whose footage is installed."""
    package, relative, pip_name, indices = FOOTAGE[0]
    try:
        footage = package_file(package, relative, pip_name)
    except AssetError as error:
        pytest.skip(str(error))
    images = read_frames(footage, indices)
    vtest = Path(sys.prefix) / "share" / "ssdlite" / "vtest.avi"
    if vtest.is_file():
        images += read_frames(vtest, VTEST_FRAMES)
    for row, image in enumerate(images):
        assert checksum(image) == REFERENCE["frame_sha256"][row], f"frame {REFERENCE['frame_index'][row]} decodes otherwise here"
    return list(enumerate(images))


@pytest.fixture(scope="module")
def outputs(tf_ssdlite_checkpoint, frames) -> tuple[torch.nn.Module, list[tuple[int, torch.Tensor, torch.Tensor]]]:
    """The converted model and its raw outputs on TF's exact network input of each frame."""
    model, _, _ = load_checkpoint(tf_ssdlite_checkpoint)
    # TF's [-1, 1] network input mapped back to [0, 1]: the model applies image_mean / image_std (0.5) itself
    tf_inputs = [torch.from_numpy(tf_network_input(image, model.image_size)).permute(2, 0, 1) for _, image in frames]
    images = (torch.stack(tf_inputs) + 1) / 2
    with torch.no_grad():
        cls_logits, bbox_regression = model(images)
    return model, [(row, cls_logits[i], bbox_regression[i]) for i, (row, _) in enumerate(frames)]


def test_anchors_equal_tf():
    # TF's config writes 1/3 as 0.3333; the converter reads it from the graph.
    generator = build_anchor_generator(ModelConfig(anchors=AnchorConfig(aspect_ratios=(1.0, 2.0, 0.5, 3.0, 0.3333))))
    anchors = generator(TF_GRIDS, (IMAGE_SIZE, IMAGE_SIZE)) / IMAGE_SIZE
    torch.testing.assert_close(anchors, torch.from_numpy(REFERENCE["anchors"][:, TF_XYXY]), atol=1e-6, rtol=0)


def test_raw_outputs_match_tf(outputs):
    model, per_image = outputs
    torch.testing.assert_close(model.anchors / IMAGE_SIZE, torch.from_numpy(REFERENCE["anchors"][:, TF_XYXY]), atol=1e-6, rtol=0)
    for row, cls_logits, bbox_regression in per_image:
        torch.testing.assert_close(cls_logits, torch.from_numpy(REFERENCE["raw_logits"][row]), atol=1e-3, rtol=0)
        torch.testing.assert_close(bbox_regression, torch.from_numpy(REFERENCE["raw_boxes"][row][:, TF_XYXY]), atol=1e-3, rtol=0)


def tf_postprocess(model, cls_logits: torch.Tensor, bbox_regression: torch.Tensor) -> dict[str, torch.Tensor]:
    """TF's order for one image and one class: NMS on the unclipped boxes of every anchor above 1e-8, the best
    100, then clipped to the input, dropping boxes left empty. Ours clips before NMS, which changes boxes
    that cross the border."""
    scores = cls_logits[:, 1].sigmoid()
    passing = scores > 1e-8
    boxes, scores = model.box_coder.decode(bbox_regression, model.anchors)[passing], scores[passing]
    settings = model.postprocessor.settings
    kept = nms(boxes, scores, settings.nms_iou_threshold)[: settings.max_detections_per_image]
    boxes, scores = clip_boxes_to_image(boxes[kept], model.image_size), scores[kept]
    non_empty = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return {"boxes": boxes[non_empty], "scores": scores[non_empty]}


def assert_same_detections(ours: dict[str, torch.Tensor], row: int, min_score: float) -> None:
    """`ours` ("boxes" in input pixels, "scores") scoring above `min_score` are TF's: count, IoU >= 0.99, score to 1e-3."""
    kept = ours["scores"] > min_score
    boxes, scores = ours["boxes"][kept], ours["scores"][kept]
    tf_kept = REFERENCE["det_scores"][row] > min_score
    tf_boxes = torch.from_numpy(REFERENCE["det_boxes"][row][tf_kept][:, TF_XYXY]) * IMAGE_SIZE
    assert len(boxes) == len(tf_boxes), f"image {row}: {len(boxes)} detections above {min_score}, TF {len(tf_boxes)}"
    if len(boxes):
        best_iou, match = box_iou(tf_boxes, boxes).max(dim=1)
        assert best_iou.min() >= 0.99 and len(set(match.tolist())) == len(boxes)
        torch.testing.assert_close(scores[match], torch.from_numpy(REFERENCE["det_scores"][row][tf_kept]), atol=1e-3, rtol=0)


def test_detections_match_tf(outputs):
    """Every detection TF keeps above 0.01 (below it, near-ties at about 1e-3 end TF's 100 detections,
    ordered by differences of 1e-5), through TF's post-processing order."""
    model, per_image = outputs
    for row, cls_logits, bbox_regression in per_image:
        assert_same_detections(tf_postprocess(model, cls_logits, bbox_regression), row, min_score=0.01)


def test_postprocessor_matches_tf_on_confident_detections(outputs):
    """Our `Postprocessor` (clipping before NMS) gives TF's detections above 0.3 on these images."""
    model, per_image = outputs
    for row, cls_logits, bbox_regression in per_image:
        (ours,) = model.postprocess(cls_logits[None], bbox_regression[None])
        assert_same_detections(ours, row, min_score=0.3)


def test_detector_finds_the_people(tf_ssdlite_checkpoint, frames):
    """End to end through `Detector` (OpenCV's resize, not TF's): TF's confident people are found."""
    row, image = max(frames, key=lambda frame: (REFERENCE["det_scores"][frame[0]] > 0.5).sum())
    (detections,) = Detector.load(tf_ssdlite_checkpoint).predict(image, score_threshold=0.3)
    height, width = image.shape[:2]
    confident = REFERENCE["det_scores"][row] > 0.5
    tf_boxes = torch.from_numpy(REFERENCE["det_boxes"][row][confident][:, TF_XYXY]) * torch.tensor([width, height] * 2)
    assert len(tf_boxes) >= 2 and set(detections.class_names) == {"person"}
    assert box_iou(tf_boxes, torch.from_numpy(detections.boxes)).max(dim=1).values.min() > 0.7


def test_many_classes_keep_their_columns(tf_ssdlite_graph):
    """A 91-class graph (TF's COCO layout, anchor-major channels) made from the person graph by repeating
    its two class columns: class c of the converted model scores as column c % 2 of the person model."""
    constants = graph_constants(read_graph_def(tf_ssdlite_graph))
    person, _ = convert_tf_ssdlite(constants, "person.pb")
    num_classes = 91
    for k in range(len(person.head.classification_head.module_list)):
        for leaf in ("weights", "biases"):
            name = f"BoxPredictor_{k}/ClassPredictor/{leaf}"
            columns = constants[name].reshape(*constants[name].shape[:-1], -1, 2)  # (..., anchors, 2)
            constants[name] = columns[..., np.arange(num_classes) % 2].reshape(*columns.shape[:-2], -1)
    coco, config = convert_tf_ssdlite(constants, "coco.pb")
    assert coco.num_classes == num_classes and config.loss.cls_loss == "focal"
    images = torch.rand(1, 3, *coco.image_size)
    with torch.no_grad():
        (person_logits, person_boxes), (coco_logits, coco_boxes) = person(images), coco(images)
    torch.testing.assert_close(coco_logits, person_logits[..., np.arange(num_classes) % 2])
    torch.testing.assert_close(coco_boxes, person_boxes)
