"""`Detector` preprocessing: the tensor validation gives the model, whatever the model's input convention."""

import numpy as np
import pytest
import torch

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import IMAGENET_MEAN, IMAGENET_STD, Config, ModelConfig, PostprocessConfig
from ssdlite.data.transforms import val_transform
from ssdlite.inference import Detector
from ssdlite.model.build import build_model

CLASSES = ("car", "person")
IMAGE_SIZE = (96, 128)


def picture(seed: int) -> np.ndarray:
    """RGB uint8 noise of an odd size, so the resize interpolates."""
    return np.random.default_rng(seed).integers(0, 256, (237, 311, 3), dtype=np.uint8)


def validation_tensor(image: np.ndarray) -> torch.Tensor:
    empty = {"bboxes": np.zeros((0, 4), np.float32), "labels": np.zeros(0, int), "iscrowd": np.zeros(0, bool)}
    return val_transform(IMAGE_SIZE)(image=image, **empty)["image"]


@pytest.fixture(scope="module", params=["minus_one_to_one", "imagenet"])
def checkpoint(request, tmp_path_factory):
    convention = {"image_mean": IMAGENET_MEAN, "image_std": IMAGENET_STD} if request.param == "imagenet" else {}
    every_score = PostprocessConfig(score_threshold=0.0)
    config = Config(model=ModelConfig(image_size=IMAGE_SIZE, width_mult=0.35, postprocess=every_score, **convention))
    torch.manual_seed(0)
    model = build_model(config.model, len(CLASSES) + 1).eval()
    path = tmp_path_factory.mktemp(request.param) / "model.ckpt"
    save_checkpoint(path, model, config, CLASSES)
    return path, model


def test_preprocess_gives_the_validation_tensor_to_the_bit(checkpoint):
    detector = Detector.load(checkpoint[0])
    images = [picture(0), picture(1)]
    preprocessed = detector.preprocess(images)
    assert preprocessed.shape == (2, 3, *IMAGE_SIZE) and preprocessed.dtype == torch.float32
    assert torch.equal(preprocessed, torch.stack([validation_tensor(image) for image in images]))
    assert preprocessed.min() >= 0 and preprocessed.max() <= 1  # no mean or std: the network applies them


def test_detector_detects_what_the_model_detects_on_the_validation_tensor(checkpoint):
    path, model = checkpoint
    image = picture(2)
    (detections,) = Detector.load(path).predict(image, max_detections=20)
    (expected,) = model.predict(validation_tensor(image)[None], [image.shape[:2]])
    np.testing.assert_allclose(detections.scores, expected["scores"][:20].numpy(), atol=1e-6)
    np.testing.assert_allclose(detections.boxes, expected["boxes"][:20].numpy(), atol=1e-3)
