"""A fixed batch of solid-colour boxes on noise, and a model trained to memorise it.

Shared by the overfit test and the export tests (which check parity on a model
whose detections are meaningful, not random).
"""

import numpy as np
import torch

from ssdlite.config import ModelConfig
from ssdlite.model.build import build_model

IMAGE_SIZE = (160, 160)
NUM_CLASSES = 4  # 3 colours + background
COLOURS = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def make_batch(num_images: int = 4, seed: int = 0) -> tuple[torch.Tensor, list[dict]]:
    """Images Tensor[B, 3, 160, 160] RGB in [0, 1] with two coloured boxes each; label = colour + 1."""
    generator = torch.Generator().manual_seed(seed)
    size = IMAGE_SIZE[0]
    images = torch.rand(num_images, 3, *IMAGE_SIZE, generator=generator) * 0.1 + 0.2  # dark noise
    targets = []
    for index in range(num_images):
        boxes, labels = [], []
        for slot in range(2):
            x0, y0 = torch.randint(0, size // 2, (2,), generator=generator).tolist()
            w, h = torch.randint(size // 6, size // 2, (2,), generator=generator).tolist()
            colour = (index + slot) % 3
            images[index, :, y0 : y0 + h, x0 : x0 + w] = torch.tensor(COLOURS[colour]).view(3, 1, 1)
            boxes.append([x0, y0, x0 + w, y0 + h])
            labels.append(colour + 1)
        targets.append({"boxes": torch.tensor(boxes, dtype=torch.float32), "labels": torch.tensor(labels)})
    return images, targets


def overfit_model(steps: int = 300) -> tuple[torch.nn.Module, list[float]]:
    """A small SSDLite trained on `make_batch()`; returns it in eval mode and its loss per step."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(image_size=IMAGE_SIZE, width_mult=0.5), NUM_CLASSES)
    images, targets = make_batch()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        loss = model.loss(*model(images), targets)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model.eval(), losses


def same(a, b) -> None:
    """Two lists of `Detections` agree: labels exactly, boxes and scores to float rounding."""
    a, b = list(a), list(b)  # `Detector.predict` streams
    assert [d.labels.tolist() for d in a] == [d.labels.tolist() for d in b]
    for x, y in zip(a, b):
        np.testing.assert_allclose(x.boxes, y.boxes, atol=1e-3)
        np.testing.assert_allclose(x.scores, y.scores, atol=1e-4)
