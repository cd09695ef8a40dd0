import math

import pytest
import torch

from ssdlite.model.box_coder import MAX_SIZE_OFFSET, BoxCoder

TF_WEIGHTS = (10.0, 10.0, 5.0, 5.0)


def test_encode_worked_by_hand():
    anchor = torch.tensor([[0.0, 0.0, 10.0, 20.0]])  # centre (5, 10), 10 x 20
    box = torch.tensor([[2.0, 4.0, 22.0, 24.0]])  # centre (12, 14), 20 x 20
    offsets = BoxCoder(TF_WEIGHTS).encode(box, anchor)
    assert offsets[0].tolist() == pytest.approx([10 * 7 / 10, 10 * 4 / 20, 5 * math.log(2), 5 * math.log(1)])


def test_round_trip():
    generator = torch.Generator().manual_seed(0)
    top_left = torch.rand(100, 2, generator=generator) * 200
    boxes = torch.cat([top_left, top_left + 1 + torch.rand(100, 2, generator=generator) * 100], dim=1)
    anchors = torch.cat([top_left + 5, top_left + 40], dim=1)
    coder = BoxCoder(TF_WEIGHTS)
    assert torch.allclose(coder.decode(coder.encode(boxes, anchors), anchors), boxes, atol=1e-3)


def test_decode_clamps_huge_size_offsets():
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    decoded = BoxCoder(TF_WEIGHTS).decode(torch.tensor([[0.0, 0.0, 1e4, 1e4]]), anchors)
    assert torch.isfinite(decoded).all()
    assert (decoded[0, 2] - decoded[0, 0]).item() == pytest.approx(10 * math.exp(MAX_SIZE_OFFSET), rel=1e-4)


def test_decode_broadcasts_over_batch():
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 25.0, 15.0]])
    decoded = BoxCoder(TF_WEIGHTS).decode(torch.zeros(3, 2, 4), anchors)
    assert torch.equal(decoded, anchors.expand(3, 2, 4))
