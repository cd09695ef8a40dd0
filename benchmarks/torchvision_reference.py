"""torchvision's SSDLite320-MobileNetV3-Large: the reference every benchmark measures ours against.

Built here once, from scratch. Like ours it takes RGB images in [0, 1] and normalises them
itself; unlike ours it resizes every input to 320x320 itself. `ReferenceSystem` trains it
through Lightning with our optimiser and warmup-cosine schedule (`ssdlite.training.optim`),
as `DetectionSystem` trains ours, instead of a loop of its own.
"""

import dataclasses
import sys
import warnings
from datetime import timedelta

import lightning as L
import torch
from lightning.pytorch.callbacks import Timer
from torch.optim.lr_scheduler import LambdaLR
from torchvision.models.detection import ssdlite320_mobilenet_v3_large
from torchvision.models.detection.ssd import SSD

from ssdlite.config import DataConfig
from ssdlite.data.coco import CocoDetection
from ssdlite.model.postprocess import scale_boxes
from ssdlite.training.datamodule import DetectionDataModule
from ssdlite.training.optim import build_optimizer, warmup_cosine_factor

NAME = "torchvision_ssdlite320_mobilenet_v3_large"
INPUT_SIZE = (320, 320)  # (H, W): what it resizes every input to
COCO_NUM_CLASSES = 91  # torchvision's default: COCO's 90 ids and background
# Its training on the built-in driving data, each setting its best measured in 10 minutes:
BATCH_SIZE = 16  # mAP 22.7 at 16, 19.5 at 8
NUM_WORKERS = 2
LR = 3e-3  # peak AdamW learning rate
MATCH_IOU = 0.4  # as ours: mAP 23.5 at 0.4, 21.0 at its default 0.5
WEIGHT_DECAY = 1e-4
WARMUP_FRACTION = 0.05
GRAD_CLIP_NORM = 10.0


def build_reference(num_classes: int = COCO_NUM_CLASSES, **settings) -> SSD:
    """torchvision's SSDLite320-MobileNetV3-Large with random weights.

    Args:
        num_classes: including background.
        settings: `SSD` arguments in place of torchvision's defaults (`score_thresh`,
            `detections_per_img`, `iou_thresh` for matching, ...).
    """
    return ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=num_classes, **settings)


class ReferenceSystem(L.LightningModule):
    """torchvision's SSDLite trained on a time budget as `DetectionSystem` trains ours.

    Our optimiser (weight decay off BN and biases) and our schedule: a linear warmup
    over `warmup_fraction` of the Trainer's `max_time`, then a cosine to 0 at its end
    (by time alone: how many steps the budget holds is not known beforehand). The
    Trainer clips the gradients. Detections go down to score 0.01, 100 per image, as
    COCO mAP wants them and as our post-processing keeps them.

    Args:
        num_classes: including background.
        lr: the peak AdamW learning rate.
        weight_decay: on weights, not on BN or biases.
        warmup_fraction: of the time budget.
        match_iou: an anchor is a positive from this IoU with a box.
    """

    def __init__(
        self,
        num_classes: int,
        *,
        lr: float = LR,
        weight_decay: float = WEIGHT_DECAY,
        warmup_fraction: float = WARMUP_FRACTION,
        match_iou: float = MATCH_IOU,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.detector = build_reference(num_classes, score_thresh=0.01, detections_per_img=100, iou_thresh=match_iou)

    def training_step(self, batch, batch_idx):
        images, targets = batch
        plain = [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets]
        loss = sum(self.detector(list(images), plain).values())
        self.log("train/loss", loss, prog_bar=True, batch_size=len(images))
        return loss

    def configure_optimizers(self):
        hparams = self.hparams
        optimizer = build_optimizer(self.detector, "adamw", hparams.lr, momentum=0.0, weight_decay=hparams.weight_decay)
        scheduler = LambdaLR(
            optimizer,
            lambda step: warmup_cosine_factor(step, self.training_progress(), sys.maxsize, hparams.warmup_fraction),
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def training_progress(self) -> float:
        """Fraction of the Trainer's `max_time` spent training."""
        timer = next(c for c in self.trainer.callbacks if isinstance(c, Timer))
        elapsed = timer.time_elapsed()
        return elapsed / max(elapsed + timer.time_remaining(), 1e-9)

    @torch.inference_mode()
    def predict(self, images: torch.Tensor, orig_sizes: list[tuple[int, int]]) -> list[dict[str, torch.Tensor]]:
        """Detections as `SSDLite.predict` gives them; the system must be in eval mode.

        Args:
            images: Tensor[B, 3, H, W] RGB in [0, 1].
            orig_sizes: (H, W) of each original image.

        Returns:
            Per image, "boxes" Tensor[K, 4] xyxy pixels of the original image,
            "scores" Tensor[K], "labels" Tensor[K] in 1..C-1.
        """
        detections = self.detector(list(images))
        for detection, orig_size in zip(detections, orig_sizes):
            detection["boxes"] = scale_boxes(detection["boxes"], tuple(images.shape[-2:]), orig_size)
        return detections


def train_reference(reference: ReferenceSystem, data: DataConfig, *, minutes: float, seed: int = 0) -> tuple[int, CocoDetection]:
    """Train on `data`'s train split (its augmentation, at `INPUT_SIZE`) on the CPU until `minutes`
    of wall clock are up; a step started before then is finished.

    Returns:
        The number of images trained on, and the validation split at `INPUT_SIZE`.
    """
    data = dataclasses.replace(data, batch_size=BATCH_SIZE, num_workers=NUM_WORKERS)
    datamodule = DetectionDataModule(data, INPUT_SIZE, seed=seed)
    trainer = L.Trainer(
        accelerator="cpu",
        max_time=timedelta(minutes=minutes),
        max_epochs=-1,  # the clock ends the run
        gradient_clip_val=GRAD_CLIP_NORM,
        use_distributed_sampler=False,  # the datamodule makes its own samplers
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    reference.train()  # Lightning trains a module in the mode it is given
    with warnings.catch_warnings():
        # the caller scores it once, after the budget: no validation_step
        warnings.filterwarnings("ignore", message="You passed in a `val_dataloader` but have no `validation_step`")
        trainer.fit(reference, datamodule=datamodule)
    return trainer.global_step * BATCH_SIZE, datamodule.val_set
