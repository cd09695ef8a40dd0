"""Running a trained detector on images: from a checkpoint, an exported ONNX file or an OpenVINO IR."""

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from ssdlite.errors import InputError
from ssdlite.evaluation import coco_results
from ssdlite.inference.inputs import batches, load_inputs
from ssdlite.inference.runtimes import Backend, Precision, Runtime, open_runtime
from ssdlite.model.build import build_postprocessor
from ssdlite.model.postprocess import Postprocessor, detections


@dataclass
class Detections:
    """Detections of one image, best first. Boxes are xyxy pixels of the original image."""

    boxes: np.ndarray  # (K, 4) float32
    scores: np.ndarray  # (K,)
    labels: np.ndarray  # (K,) int, 1..C-1
    class_names: list[str]  # (K,) the name of each label
    source: str  # file path, or "array[i]" / "image[i]" for in-memory inputs
    image_size: tuple[int, int]  # (height, width) of the original image

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "image_size": list(self.image_size),
            "boxes": self.boxes.round(2).tolist(),
            "scores": self.scores.round(5).tolist(),
            "labels": self.labels.tolist(),
            "class_names": self.class_names,
        }

    def to_coco(self, image_id: int, label_to_category_id: dict[int, int]) -> list[dict]:
        """COCO results entries, as `tools/eval.py` writes them (see `ssdlite.evaluation.coco_results`)."""
        return coco_results(self.boxes, self.scores, self.labels, image_id, label_to_category_id)


class Detector:
    """A detector ready for inference: preprocessing, a runtime (network and post-processing), the
    detections of each image. Build it with `load` (the runtime follows the file); every runtime gives
    the same detections for the same weights (to float rounding).

    Args:
        runtime: runs the network and `Postprocessor.graph` (`ssdlite.inference.runtimes`).
        postprocessor: the model's thresholds and limits, which `predict` may change per call.
        image_size: (H, W) of the network input.
        class_names: label k is `class_names[k - 1]`.
    """

    def __init__(
        self, runtime: Runtime, postprocessor: Postprocessor, *, image_size: tuple[int, int], class_names: tuple[str, ...]
    ):
        self.runtime = runtime
        self.postprocessor = postprocessor
        self.image_size = tuple(image_size)
        self.class_names = tuple(class_names)

    @classmethod
    def load(
        cls, path: str | Path, *, device: str = "cpu", backend: Backend = "auto", precision: Precision = "fp32"
    ) -> "Detector":
        """A detector for a `.ckpt` (PyTorch), `.onnx` or OpenVINO `.xml` file (see `open_runtime`), run on
        torch `device` ("cpu", "cuda", "cuda:1", ...) at `precision` ("fp32", or "bf16" where the CPU
        has it). A checkpoint runs in PyTorch: export it with `tools/export.py --format openvino` for
        OpenVINO's speed on a CPU."""
        runtime, config, class_names = open_runtime(path, backend=backend, device=device, precision=precision)
        postprocessor = build_postprocessor(config.model)
        return cls(runtime, postprocessor, image_size=config.model.image_size, class_names=class_names)

    @property
    def backend(self) -> str:
        """What runs the network: "pytorch", "onnxruntime" or "openvino"."""
        return self.runtime.name

    def preprocess(self, images: list[np.ndarray]) -> torch.Tensor:
        """RGB uint8 HxWx3 arrays -> Tensor[B, 3, H, W] in [0, 1], resized and scaled as `val_transform` does
        it, to the bit (the network applies the model's mean and std itself).

        In numpy, not torch: a torch op of this size wakes torch's thread pool, whose threads then
        spin beside an exported network's runtime (docs/benchmarks.md).
        """
        height, width = self.image_size
        resized = np.stack([cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR) for image in images])
        scaled = np.ascontiguousarray(resized.transpose(0, 3, 1, 2), dtype=np.float32)  # (B, 3, H, W)
        scaled /= 255  # divided, not multiplied by 1 / 255: albumentations' ToFloat divides too
        return torch.from_numpy(scaled)

    def predict(
        self,
        inputs,
        score_threshold: float | None = None,
        classes: list[str] | None = None,
        max_detections: int | None = None,
        batch_size: int = 8,
        bgr: bool = False,
    ) -> Iterator[Detections]:
        """Detect objects, one batch at a time: a long folder or video streams through.

        Args:
            inputs: an image path, a folder, a glob pattern, a numpy image
                (HxWx3 uint8, RGB unless `bgr=True`, e.g. for cv2 frames), a
                PIL image, or a list or other iterable of these.
            score_threshold: keep detections scoring above this (default: the model's).
            classes: detect only these class names; `max_detections` counts only them.
            max_detections: at most this many per image (default: the model's).
            batch_size: images per forward pass.

        Returns:
            One `Detections` per image, in input order, as they are computed. Bad settings raise
            here; unreadable files in a folder or glob are reported and skipped, an unreadable
            single path raises when it is reached.
        """
        return self._stream(inputs, self._postprocessor(score_threshold, max_detections, classes), batch_size, bgr)

    def predict_tensors(self, images: torch.Tensor, orig_sizes: list[tuple[int, int]]) -> list[dict[str, torch.Tensor]]:
        """Detections of preprocessed images Tensor[B, 3, H, W], as `SSDLite.predict` gives them
        (boxes in the pixels of images of `orig_sizes`), with the model's thresholds."""
        return self._run(images, orig_sizes, self.postprocessor)

    def _stream(self, inputs, post: Postprocessor, batch_size: int, bgr: bool) -> Iterator[Detections]:
        for batch in batches(load_inputs(inputs, bgr), batch_size):
            sources, images = zip(*batch)
            sizes = [image.shape[:2] for image in images]
            found = self._run(self.preprocess(list(images)), sizes, post)
            yield from (self._detections(det, source, size) for source, size, det in zip(sources, sizes, found))

    def _run(self, images: torch.Tensor, orig_sizes: list[tuple[int, int]], post: Postprocessor) -> list[dict[str, torch.Tensor]]:
        outputs = self.runtime(images, post.limits(len(self.class_names)))
        return detections(outputs, self.image_size, orig_sizes)

    def _postprocessor(
        self, score_threshold: float | None, max_detections: int | None, classes: list[str] | None
    ) -> Postprocessor:
        """The model's post-processor with the settings given for one `predict` call."""
        settings, labels = {}, self.postprocessor.labels_to_keep
        if score_threshold is not None:
            if not 0 <= score_threshold <= 1:
                raise InputError(f"score_threshold = {score_threshold}: a score threshold must lie in [0, 1], e.g. 0.3")
            settings["score_threshold"] = score_threshold
        if max_detections is not None:
            if isinstance(max_detections, bool) or not isinstance(max_detections, int) or max_detections < 1:
                raise InputError(f"max_detections = {max_detections!r}: give a whole number of at least 1, e.g. 100")
            settings["max_detections_per_image"] = max_detections
        if classes is not None:
            unknown = set(classes) - set(self.class_names)
            if unknown:
                raise InputError(f"unknown classes {sorted(unknown)}; this model knows {list(self.class_names)}")
            labels = frozenset(self.class_names.index(name) + 1 for name in classes)
        settings = dataclasses.replace(self.postprocessor.settings, **settings)
        return dataclasses.replace(self.postprocessor, settings=settings, labels_to_keep=labels)

    def _detections(self, det: dict, source: str, size: tuple[int, int]) -> Detections:
        labels = det["labels"].cpu().numpy()
        return Detections(
            boxes=det["boxes"].cpu().numpy().astype(np.float32).reshape(-1, 4),
            scores=det["scores"].cpu().numpy(),
            labels=labels,
            class_names=[self.class_names[label - 1] for label in labels],
            source=source,
            image_size=tuple(int(v) for v in size),
        )


def leave_the_cores_to_the_runtime(detector: Detector) -> None:
    """For a process that runs `detector` frame after frame (`tools/infer.py`, `tools/track.py`): with an
    exported network torch only pre- and post-processes, so it runs on one thread; its idle pool threads
    would otherwise spin beside the runtime's (docs/benchmarks.md). A Detector does not switch threads per
    call: the switch itself can take longer than the network."""
    if detector.backend != "pytorch":
        torch.set_num_threads(1)
