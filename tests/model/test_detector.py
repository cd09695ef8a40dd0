import pytest
import torch
from overfit import make_batch, overfit_model
from torch.utils.flop_counter import FlopCounterMode
from torchvision.ops import box_iou

from ssdlite.config import IMAGENET_MEAN, IMAGENET_STD, ModelConfig
from ssdlite.model.build import build_model


@pytest.fixture(scope="module")
def paper_model():
    return build_model(ModelConfig(), num_classes=91).eval()


def test_size_of_the_paper_model(paper_model):
    num_params = sum(p.numel() for p in paper_model.parameters())
    with FlopCounterMode(display=False) as counter:
        paper_model(torch.zeros(1, 3, 300, 300))
    multiply_adds = counter.get_total_flops() / 2
    assert 4.2e6 <= num_params <= 4.6e6
    assert 0.70e9 <= multiply_adds <= 0.85e9


def test_outputs_and_anchors(paper_model):
    cls_logits, bbox_regression = paper_model(torch.zeros(2, 3, 300, 300))
    assert cls_logits.shape == (2, 1917, 91) and bbox_regression.shape == (2, 1917, 4)
    assert paper_model.anchors.shape == (1917, 4)
    assert paper_model.grid_sizes == [(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]


def test_grids_follow_the_input_size():
    model = build_model(ModelConfig(image_size=(320, 320)), num_classes=7)
    assert [g[0] for g in model.grid_sizes] == [20, 10, 5, 3, 2, 1]
    assert model.anchors.shape == (20 * 20 * 3 + (100 + 25 + 9 + 4 + 1) * 6, 4)


def test_image_with_no_boxes_gives_a_finite_loss(paper_model):
    images = torch.zeros(2, 3, 300, 300)
    targets = [
        {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)},
        {"boxes": torch.tensor([[10.0, 10.0, 100.0, 80.0]]), "labels": torch.tensor([3])},
    ]
    losses = paper_model.loss(*paper_model(images), targets)
    assert torch.isfinite(losses["loss"]) and losses["num_positives"] > 0
    empty_only = paper_model.loss(*paper_model(images[:1]), targets[:1])
    assert torch.isfinite(empty_only["loss"]) and empty_only["loss_box"] == 0 and empty_only["loss_cls"] > 0


def test_crowd_boxes_make_no_positives(paper_model):
    target = {"boxes": torch.tensor([[10.0, 10.0, 100.0, 80.0]]), "labels": torch.tensor([1]), "iscrowd": torch.tensor([True])}
    cls_targets, _ = paper_model.match([target])
    assert (cls_targets > 0).sum() == 0 and (cls_targets < 0).sum() > 0


@pytest.mark.parametrize(
    "images, message",
    [
        (torch.zeros(3, 300, 300), r"Tensor\[B, 3, H, W\]"),
        (torch.zeros(1, 1, 300, 300), r"Tensor\[B, 3, H, W\]"),
        (torch.zeros(1, 3, 300, 300, dtype=torch.uint8), "must be float"),
        (torch.zeros(1, 3, 320, 320), "built for"),
        (torch.full((1, 3, 300, 300), -0.5), r"RGB in \[0, 1\].*got values in \[-0.5, -0.5\]"),  # old [-1, 1] input
        (torch.full((1, 3, 300, 300), 128.0), r"RGB in \[0, 1\]"),  # 0-255
    ],
)
def test_bad_images_raise(paper_model, images, message):
    with pytest.raises(ValueError, match=message):
        paper_model(images)


def small_model(**convention):
    torch.manual_seed(0)
    return build_model(ModelConfig(image_size=(96, 96), width_mult=0.35, **convention), num_classes=3).eval()


def test_default_convention_is_the_old_minus_one_to_one_input():
    model = small_model()
    images = torch.rand(2, 3, 96, 96, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        old = model.head(model.backbone(images * 2 - 1))  # what callers fed the network before it normalised
        new = model(images)
    assert torch.equal(new[0], old["cls_logits"]) and torch.equal(new[1], old["bbox_regression"])


def test_imagenet_convention_normalises_each_channel_by_its_own_mean_and_std():
    model = small_model(image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD)
    assert model.image_mean.flatten().tolist() == pytest.approx(IMAGENET_MEAN)
    assert model.image_std.flatten().tolist() == pytest.approx(IMAGENET_STD)
    assert "image_mean" not in model.state_dict()  # the config records it, not the weights
    images = torch.rand(2, 3, 96, 96, generator=torch.Generator().manual_seed(1))
    red = (images[:, 0] - 0.485) / 0.229  # worked out by hand for channel 0
    with torch.no_grad():
        body = model.head(model.backbone((images - model.image_mean) / model.image_std))
        outputs = model(images)
        default = small_model()(images)  # same weights (same seed), the [-1, 1] convention
    assert torch.allclose(((images - model.image_mean) / model.image_std)[:, 0], red)
    assert torch.equal(outputs[0], body["cls_logits"])
    assert not torch.allclose(outputs[0], default[0])


@pytest.mark.parametrize("mean, std", [((0.5, 0.5), (0.5, 0.5, 0.5)), ((0.5, 0.5, 0.5), (0.5, 0.0, 0.5))])
def test_a_bad_convention_is_refused(mean, std):
    with pytest.raises(ValueError, match="image_mean and image_std need 3 values"):
        small_model(image_mean=mean, image_std=std)


@pytest.mark.parametrize(
    "boxes, labels, message",
    [
        ([[0.0, 0.0, float("nan"), 10.0]], [1], "NaN"),
        ([[10.0, 10.0, 5.0, 20.0]], [1], "x_min < x_max"),
        ([[10.0, 10.0, 10.0, 20.0]], [1], "x_min < x_max"),
        ([[10.0, 10.0, 20.0, 20.0]], [91], r"labels must be in 1\.\.90"),
        ([[10.0, 10.0, 20.0, 20.0]], [0], "0 is background"),
        ([[10.0, 10.0, 20.0]], [1], r"Tensor\[N, 4\]"),
    ],
)
def test_bad_targets_raise(paper_model, boxes, labels, message):
    outputs = paper_model(torch.zeros(1, 3, 300, 300))
    target = {"boxes": torch.tensor(boxes), "labels": torch.tensor(labels), "image_id": 7}
    with pytest.raises(ValueError, match=message) as error:
        paper_model.loss(*outputs, [target])
    assert "image_id 7" in str(error.value)


@pytest.mark.slow
def test_overfits_a_fixed_batch():
    model, losses = overfit_model(steps=300)
    assert losses[-1] < 0.1 * losses[0], f"loss went from {losses[0]:.3f} to {losses[-1]:.3f}"
    images, targets = make_batch()
    for detections, target in zip(model.predict(images), targets):
        top = detections["boxes"][: len(target["boxes"])]
        iou = box_iou(target["boxes"], top)
        best = iou.argmax(dim=1)
        assert (iou.max(dim=1).values > 0.7).all(), iou
        assert torch.equal(detections["labels"][best], target["labels"])
