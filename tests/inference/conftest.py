"""The model the overfit test memorises, saved as a checkpoint: shared by the inference tests."""

import cv2
import pytest
from overfit import IMAGE_SIZE, make_batch, overfit_model

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import Config, ModelConfig

CLASSES = ("red", "green", "blue")


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """(checkpoint path, model, uint8 RGB images, folder of PNGs) for the memorised batch."""
    root = tmp_path_factory.mktemp("overfit")
    model, _ = overfit_model()
    config = Config(model=ModelConfig(image_size=IMAGE_SIZE, width_mult=0.5))
    save_checkpoint(root / "model.ckpt", model, config, CLASSES)
    images, _ = make_batch()
    arrays = (images.permute(0, 2, 3, 1) * 255).round().clamp(0, 255).byte().numpy()
    (root / "images").mkdir()
    for index, array in enumerate(arrays):
        cv2.imwrite(str(root / "images" / f"{index}.png"), array[:, :, ::-1])
    return root / "model.ckpt", model, list(arrays), root / "images"
