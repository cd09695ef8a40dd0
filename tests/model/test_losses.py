import torch

from ssdlite.model.losses import FocalLoss, HardNegativeLoss
from ssdlite.model.matcher import IGNORE


def test_hard_negatives_are_three_per_positive_and_the_hardest():
    cls_loss = torch.arange(20, dtype=torch.float32).view(1, 20)
    cls_targets = torch.zeros(1, 20, dtype=torch.long)
    cls_targets[0, [0, 19]] = 2  # two positives
    cls_targets[0, 18] = IGNORE
    kept = HardNegativeLoss(3.0, 3).hard_negatives(cls_loss, cls_targets)
    # highest-loss negatives, skipping the positive (19) and the ignored anchor (18)
    assert torch.nonzero(kept[0]).flatten().tolist() == [12, 13, 14, 15, 16, 17]


def test_all_negatives_when_fewer_than_three_per_positive():
    cls_targets = torch.tensor([[1, 1, 0, 0]])
    kept = HardNegativeLoss(3.0, 3).hard_negatives(torch.rand(1, 4), cls_targets)
    assert kept.tolist() == [[False, False, True, True]]


def test_min_negatives_for_an_image_with_no_boxes():
    cls_targets = torch.zeros(2, 10, dtype=torch.long)
    cls_targets[1, :2] = 1
    kept = HardNegativeLoss(3.0, 3).hard_negatives(torch.rand(2, 10), cls_targets)
    assert kept.sum(dim=1).tolist() == [3, 6]


def test_loss_value_worked_by_hand():
    cls_logits = torch.zeros(1, 5, 3)
    cls_targets = torch.tensor([[1, 0, 0, 0, 0]])
    box_targets = torch.zeros(1, 5, 4)
    box_targets[0, 0] = torch.tensor([1.0, 0.0, 3.0, 0.5])
    losses = HardNegativeLoss(3.0, 3)(cls_logits, torch.zeros(1, 5, 4), cls_targets, box_targets)
    # 1 positive + 3 negatives, each CE = log 3; smooth L1 = 0.5 + 0 + 2.5 + 0.125
    assert torch.isclose(losses["loss_cls"], 4 * torch.log(torch.tensor(3.0)))
    assert torch.isclose(losses["loss_box"], torch.tensor(3.125))


def test_focal_loss_skips_ignored_and_is_finite_without_positives():
    cls_logits = torch.randn(1, 6, 3, requires_grad=True)
    cls_targets = torch.tensor([[0, 0, 0, IGNORE, 0, 0]])
    losses = FocalLoss()(cls_logits, torch.zeros(1, 6, 4), cls_targets, torch.zeros(1, 6, 4))
    assert torch.isfinite(losses["loss"]) and losses["loss_box"] == 0
    losses["loss"].backward()
    assert cls_logits.grad[0, 3].abs().sum() == 0 and cls_logits.grad[0, 0].abs().sum() > 0
