"""Datasets, samplers and loaders for training and validation."""

import dataclasses
from collections.abc import Callable

import lightning as L
from torch.utils.data import DataLoader, DistributedSampler

from ssdlite.config import DataConfig
from ssdlite.data.batch import collate
from ssdlite.data.build import build_dataset, make_builtin_data


class ResumableSampler(DistributedSampler):
    """A `DistributedSampler` whose next epoch can start part-way through.

    The order of every epoch is fixed by (seed, epoch), so a run resumed from a
    checkpoint written mid-epoch skips the batches it already trained on and
    sees exactly the batches an uninterrupted run would.
    """

    def __init__(self, dataset, num_replicas: int, rank: int, shuffle: bool, seed: int):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed)
        self.start = 0  # samples of the next epoch to skip; applies once

    def __iter__(self):
        indices = list(super().__iter__())
        start, self.start = self.start, 0
        return iter(indices[start:])


class ResumableLoader(DataLoader):
    """A loader that tells Lightning where in the epoch a checkpoint was written.

    Lightning stores `state_dict()` in checkpoints and, when resuming, calls
    `load_state_dict` before iterating, so the sampler can skip what is done.

    Args:
        batches_done: batches of the current epoch already trained on.
    """

    def __init__(self, *args, batches_done: Callable[[], int], **kwargs):
        super().__init__(*args, **kwargs)
        self.batches_done = batches_done

    def state_dict(self) -> dict:
        return {"batches_done": self.batches_done()}

    def load_state_dict(self, state: dict) -> None:
        if 0 < state["batches_done"] < len(self):
            self.sampler.start = state["batches_done"] * self.batch_size


class DetectionDataModule(L.LightningDataModule):
    """COCO-format train and validation splits.

    With `cfg.synthetic`, the built-in driving data is generated into the
    configured folders on first use. The module makes its own distributed
    samplers (the Trainer runs with `use_distributed_sampler=False`).

    Args:
        cfg: data settings.
        image_size: (H, W) of the network input.
        seed: fixes the shuffling order of every epoch.
    """

    def __init__(self, cfg: DataConfig, image_size: tuple[int, int], seed: int):
        super().__init__()
        self.cfg = cfg
        self.image_size = tuple(image_size)
        self.seed = seed
        self.train_set = None
        self.val_set = None

    def prepare_data(self) -> None:
        make_builtin_data(self.cfg)

    def setup(self, stage: str) -> None:
        if stage == "fit" and self.train_set is None:
            self.train_set = build_dataset(self.cfg, "train", self.image_size)
        if stage in ("fit", "validate") and self.val_set is None:
            # Validation labels must mean what training labels mean, whatever the val file lists.
            classes = self.train_set.class_names if self.train_set is not None else self.cfg.classes
            self.val_set = build_dataset(dataclasses.replace(self.cfg, classes=classes), "val", self.image_size)

    def train_dataloader(self) -> DataLoader:
        sampler = self._sampler(self.train_set, shuffle=True)
        progress = self.trainer.fit_loop.epoch_loop.batch_progress
        return ResumableLoader(
            self.train_set,
            batches_done=lambda: progress.current.completed,
            **self._loader_args(sampler, drop_last=len(sampler) > self.cfg.batch_size),  # no 1-image BN batches
        )

    def val_dataloader(self) -> DataLoader:
        # Ranks are padded with repeated images; evaluation counts each image once.
        return DataLoader(self.val_set, **self._loader_args(self._sampler(self.val_set, shuffle=False), drop_last=False))

    def _sampler(self, dataset, shuffle: bool) -> ResumableSampler:
        return ResumableSampler(dataset, self.trainer.world_size, self.trainer.global_rank, shuffle, self.seed)

    def _loader_args(self, sampler, drop_last: bool) -> dict:
        return dict(
            batch_size=self.cfg.batch_size,
            sampler=sampler,
            drop_last=drop_last,
            num_workers=self.cfg.num_workers,
            persistent_workers=self.cfg.num_workers > 0,
            collate_fn=collate,
        )
