import dataclasses

import pytest
import torch
from torchvision.ops import batched_nms, clip_boxes_to_image

from ssdlite.config import LossConfig, ModelConfig, PostprocessConfig
from ssdlite.model.box_coder import BoxCoder
from ssdlite.model.build import build_postprocessor
from ssdlite.model.postprocess import FEW_CLASSES, Postprocessor


def postprocessor(cls_loss: str = "softmax", **settings) -> Postprocessor:
    """The post-processor of a model config with this loss and these post-processing settings."""
    return build_postprocessor(ModelConfig(loss=LossConfig(cls_loss=cls_loss), postprocess=PostprocessConfig(**settings)))


def reference_detections(cls_logits, bbox_regression, anchors, image_size, threshold, topk, iou, max_det, max_candidates=10**9):
    """The same post-processing written plainly, one class at a time."""
    scores = cls_logits.softmax(-1)[:, 1:]
    boxes = clip_boxes_to_image(BoxCoder(ModelConfig().box_coder_weights).decode(bbox_regression, anchors), image_size)
    all_boxes, all_scores, all_labels = [], [], []
    for k in range(scores.shape[1]):
        class_scores, order = scores[:, k].sort(descending=True)
        class_scores, order = class_scores[:topk], order[:topk]
        keep = class_scores > threshold
        all_boxes.append(boxes[order[keep]])
        all_scores.append(class_scores[keep])
        all_labels.append(torch.full((int(keep.sum()),), k + 1))
    boxes, scores, labels = torch.cat(all_boxes), torch.cat(all_scores), torch.cat(all_labels)
    best = scores.argsort(descending=True)[:max_candidates]
    boxes, scores, labels = boxes[best], scores[best], labels[best]
    keep = batched_nms(boxes, scores, labels, iou)[:max_det]
    return boxes[keep], scores[keep], labels[keep]


def test_equals_direct_batched_nms_reference():
    generator = torch.Generator().manual_seed(0)
    num_anchors, num_classes = 500, 4
    top_left = torch.rand(num_anchors, 2, generator=generator) * 250
    anchors = torch.cat([top_left, top_left + 20 + torch.rand(num_anchors, 2, generator=generator) * 60], dim=1)
    cls_logits = torch.randn(2, num_anchors, num_classes, generator=generator) * 3
    bbox_regression = torch.randn(2, num_anchors, 4, generator=generator)
    post = postprocessor(
        score_threshold=0.05, topk_per_class=50, nms_iou_threshold=0.5, max_detections_per_image=40, max_candidates_per_image=120
    )
    detections = post(cls_logits, bbox_regression, anchors, (300, 300))
    for index in range(2):
        boxes, scores, labels = reference_detections(
            cls_logits[index], bbox_regression[index], anchors, (300, 300), 0.05, 50, 0.5, 40, max_candidates=120
        )
        assert len(detections[index]["scores"]) == 40
        assert torch.equal(detections[index]["labels"], labels)
        assert torch.allclose(detections[index]["scores"], scores)
        assert torch.allclose(detections[index]["boxes"], boxes)


def test_boxes_scaled_to_original_size_and_clipped():
    anchors = torch.tensor([[250.0, 100.0, 350.0, 200.0]])  # crosses the right border of a 300x300 input
    cls_logits = torch.tensor([[[0.0, 5.0]]])
    detections = postprocessor()(cls_logits, torch.zeros(1, 1, 4), anchors, (300, 300), [(600, 900)])
    assert detections[0]["boxes"].tolist() == [pytest.approx([750.0, 200.0, 900.0, 400.0])]
    assert detections[0]["labels"].tolist() == [1]


def test_nothing_above_threshold_gives_empty_tensors():
    detections = postprocessor(score_threshold=0.99)(
        torch.zeros(1, 3, 5), torch.zeros(1, 3, 4), torch.tensor([[0.0, 0, 10, 10]] * 3), (300, 300)
    )
    assert detections[0]["boxes"].shape == (0, 4) and detections[0]["labels"].shape == (0,)


@pytest.mark.parametrize("num_classes", [2, 7, FEW_CLASSES, 92])
def test_softmax_scores_for_few_and_many_classes(num_classes):
    cls_logits = torch.randn(2, 300, num_classes, generator=torch.Generator().manual_seed(0)) * 4
    scores = postprocessor().class_scores(cls_logits)
    assert scores.shape == (2, 300, num_classes - 1)
    assert torch.allclose(scores, cls_logits.softmax(-1)[..., 1:], atol=1e-6)


def test_sigmoid_scores():
    scores = postprocessor("focal").class_scores(torch.tensor([[9.0, 0.0, 2.0]]))
    assert scores[0].tolist() == pytest.approx([0.5, torch.sigmoid(torch.tensor(2.0)).item()])


def test_kept_labels_are_chosen_before_the_detection_cap():
    # Four disjoint anchors: two confident "label 1" boxes, then two less confident "label 2" boxes.
    anchors = torch.tensor([[0.0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [60, 0, 70, 10]])
    cls_logits = torch.tensor([[[0.0, 6.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 3.0], [0.0, 0.0, 2.0]]])
    post = postprocessor(score_threshold=0.3, max_detections_per_image=2)
    (every_class,) = post(cls_logits, torch.zeros(1, 4, 4), anchors, (100, 100))
    assert every_class["labels"].tolist() == [1, 1]  # filtering these afterwards would leave no label 2
    (label_2,) = dataclasses.replace(post, labels_to_keep=frozenset({2}))(cls_logits, torch.zeros(1, 4, 4), anchors, (100, 100))
    assert label_2["labels"].tolist() == [2, 2]
    assert label_2["boxes"].tolist() == anchors[2:].tolist()
    assert label_2["scores"].tolist() == pytest.approx(cls_logits[0, 2:].softmax(-1)[:, 2].tolist())


def test_the_detection_cap_counts_each_image_of_a_batch_apart():
    # One NMS runs over the whole batch: image 0's many boxes must not take image 1's places.
    anchors = torch.tensor([[0.0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]])
    cls_logits = torch.tensor([[[0.0, 9.0], [0.0, 8.0], [0.0, 7.0]], [[0.0, 1.0], [0.0, 2.0], [0.0, -9.0]]])
    first, second = postprocessor(score_threshold=0.5, max_detections_per_image=2)(
        cls_logits, torch.zeros(2, 3, 4), anchors, (100, 100)
    )
    assert first["boxes"].tolist() == anchors[:2].tolist()
    assert second["boxes"].tolist() == anchors[[1, 0]].tolist()  # best first; the third scores below 0.5


def test_boxes_of_other_images_and_classes_never_suppress_each_other():
    anchors = torch.tensor([[0.0, 0, 10, 10]] * 2)  # the same place twice
    cls_logits = torch.tensor([[[0.0, 5.0, 0.0], [0.0, 0.0, 4.0]]]).repeat(2, 1, 1)  # two classes, in two images
    found = postprocessor(score_threshold=0.1)(cls_logits, torch.zeros(2, 2, 4), anchors, (100, 100))
    assert [d["labels"].tolist() for d in found] == [[1, 2], [1, 2]]
