"""Batches of samples: what a loader yields, and what is read from its targets."""

import torch


def collate(batch: list[tuple[torch.Tensor, dict]]) -> tuple[torch.Tensor, list[dict]]:
    """Images stacked to Tensor[B, 3, H, W]; targets kept as a list of dicts."""
    images, targets = zip(*batch)
    return torch.stack(images), list(targets)


def original_sizes(targets: list[dict]) -> list[tuple[int, int]]:
    """(height, width) of each target's image before resizing, as the post-processor takes them."""
    return [(int(target["orig_size"][0]), int(target["orig_size"][1])) for target in targets]


def image_ids(targets: list[dict]) -> list[int]:
    """The dataset image id of each target."""
    return [int(target["image_id"]) for target in targets]
