"""Running a trained detector on images: from a checkpoint, an exported ONNX file or an OpenVINO IR."""

import copy
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import torch

from ssdlite.checkpoint import load_checkpoint
from ssdlite.config import ModelConfig, from_dict
from ssdlite.evaluation import coco_results
from ssdlite.inference.inputs import batches, load_inputs
from ssdlite.inference.postprocessing_network import kept_detections, postprocessing_inputs
from ssdlite.model.build import build_anchors, build_loss, build_postprocessor
from ssdlite.model.detector import SSDLite
from ssdlite.model.postprocess import Postprocessor

Backend = Literal["auto", "onnxruntime", "openvino"]  # how `Detector.load` runs an ONNX file


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
    """A detector ready for inference: preprocessing, network, post-processing.

    Build it with `load` (the backend follows the file), or `from_checkpoint`,
    `from_onnx`, `from_openvino`; all give the same detections for the same
    weights (to float rounding).

    Args:
        network: Tensor[B, 3, H, W] RGB in [0, 1] -> (cls_logits [B, A, C], bbox_regression [B, A, 4]),
            or, with `network_postprocesses`, (images, class mask Tensor[C-1], score threshold, NMS IoU
            threshold, max detections) -> the candidates of `Postprocessor.candidates` (scores [B, N], boxes
            [B, N, 4], labels [B, N]) and the rows (image, 0, candidate) of those NMS kept, [M, 3].
        anchors: Tensor[A, 4] xyxy input pixels, on the device of the network's outputs.
        postprocessor: thresholds and NMS.
        image_size: (H, W) of the network input.
        class_names: label k is `class_names[k - 1]`.
        backend: what runs the network: "pytorch", "onnxruntime" or "openvino".
        network_postprocesses: the network ends with post-processing, all but scaling the boxes.
    """

    def __init__(
        self,
        network: Callable,
        anchors: torch.Tensor,
        postprocessor: Postprocessor,
        image_size: tuple[int, int],
        class_names: tuple[str, ...],
        backend: str = "pytorch",
        network_postprocesses: bool = False,
    ):
        self.network = network
        self.anchors = anchors
        self.postprocessor = postprocessor
        self.image_size = tuple(image_size)
        self.class_names = tuple(class_names)
        self.backend = backend
        self.network_postprocesses = network_postprocesses

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "cpu") -> "Detector":
        """The model of a training checkpoint, run and post-processed on `device`."""
        model, _, class_names = load_checkpoint(path, map_location=device)

        @torch.inference_mode()
        def network(images: torch.Tensor):
            return model(images.to(device))

        return cls(network, model.anchors, model.postprocessor, model.image_size, class_names)

    @classmethod
    def load(cls, path: str | Path, backend: Backend = "auto") -> "Detector":
        """A detector for a `.ckpt` (PyTorch), `.onnx` or OpenVINO `.xml` file.

        backend "auto" runs an ONNX file in OpenVINO when `openvino` is installed
        (the fastest CPU path), else in onnxruntime; "onnxruntime" or "openvino"
        choose for ONNX files. A checkpoint runs in PyTorch: export it with
        `tools/export.py --format openvino` for OpenVINO's speed.
        """
        suffix = Path(path).suffix.lower()
        if suffix == ".xml":
            return cls.from_openvino(path)
        if suffix != ".onnx":
            return cls.from_checkpoint(path)
        if backend == "openvino" or (backend == "auto" and importlib.util.find_spec("openvino") is not None):
            return cls.from_openvino(path)
        return cls.from_onnx(path)

    @classmethod
    def from_openvino(cls, path: str | Path, threads: int | None = None) -> "Detector":
        """An OpenVINO IR from `tools/export.py --format openvino` (or a raw-output ONNX file),
        compiled for the CPU with `threads` threads (default: torch's)."""
        from ssdlite.inference.openvino_ir import CompiledIR, read_ir, with_postprocessing

        model, config, class_names = read_ir(path)
        postprocessor, anchors = _exported_postprocessing(config.model)
        network = CompiledIR(with_postprocessing(model, postprocessor, anchors, config.model.image_size), threads)
        return cls(network, anchors, postprocessor, config.model.image_size, class_names, "openvino", network_postprocesses=True)

    @classmethod
    def from_onnx(cls, path: str | Path) -> "Detector":
        """An ONNX file from `ssdlite.inference.export.export_onnx` with raw outputs (not `--nms`),
        run by onnxruntime with torch's thread count.

        Anchors and post-processing come from the config in the file's metadata.
        """
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        # Idle threads sleep instead of spinning: they would take the cores from the
        # decoding, drawing or tracking that runs between two calls.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: quantised graphs log every unused initializer
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        meta = session.get_modelmeta().custom_metadata_map
        if "ssdlite_config" not in meta:
            raise ValueError(f"{path} was not exported by ssdlite (no ssdlite_config metadata)")
        outputs = tuple(output.name for output in session.get_outputs())
        if outputs != SSDLite.OUTPUT_NAMES:
            raise ValueError(
                f"{path} has NMS in its graph (outputs {', '.join(outputs)}); export it without --nms for the Detector"
            )

        def network(images: torch.Tensor):
            cls_logits, bbox_regression = session.run(None, {"images": images.numpy()})
            return torch.from_numpy(cls_logits), torch.from_numpy(bbox_regression)

        model_cfg = from_dict(json.loads(meta["ssdlite_config"])).model
        postprocessor, anchors = _exported_postprocessing(model_cfg)
        class_names = tuple(json.loads(meta["ssdlite_class_names"]))
        return cls(network, anchors, postprocessor, model_cfg.image_size, class_names, "onnxruntime")

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
    ) -> list[Detections]:
        """Detect objects.

        Args:
            inputs: an image path, a folder, a glob pattern, a numpy image
                (HxWx3 uint8, RGB unless `bgr=True`, e.g. for cv2 frames), a
                PIL image, or a list of these.
            score_threshold: keep detections scoring above this (default: the model's).
            classes: detect only these class names; `max_detections` counts only them.
            max_detections: at most this many per image (default: the model's).
            batch_size: images per forward pass.

        Returns:
            One `Detections` per image, in input order. Unreadable files in a
            folder or glob are reported and skipped; an unreadable single path raises.
        """
        post = self._postprocessor(score_threshold, max_detections, classes)
        results = []
        for batch in batches(load_inputs(inputs, bgr), batch_size):
            sources, images = zip(*batch)
            sizes = [image.shape[:2] for image in images]
            detections = self.postprocess(self.run_network(self.preprocess(list(images)), post), sizes, post)
            results.extend(self._detections(det, source, size) for source, size, det in zip(sources, sizes, detections))
        return results

    def predict_tensors(self, images: torch.Tensor, orig_sizes: list[tuple[int, int]]) -> list[dict[str, torch.Tensor]]:
        """Detections of preprocessed images Tensor[B, 3, H, W], as `SSDLite.predict` gives them
        (boxes in the pixels of images of `orig_sizes`), with the model's thresholds."""
        return self.postprocess(self.run_network(images), orig_sizes)

    def run_network(self, images: torch.Tensor, post: Postprocessor | None = None) -> tuple[torch.Tensor, ...]:
        """The network's outputs for preprocessed images (`post`: the model's thresholds and classes if None)."""
        if self.network_postprocesses:
            return self.network(images, *postprocessing_inputs(post or self.postprocessor, len(self.class_names)))
        return self.network(images)

    def postprocess(
        self, outputs: tuple[torch.Tensor, ...], orig_sizes: list[tuple[int, int]], post: Postprocessor | None = None
    ) -> list[dict]:
        """`run_network`'s outputs -> detections as `predict_tensors` gives them (`post`: the model's thresholds if None)."""
        post = post or self.postprocessor
        if self.network_postprocesses:
            return kept_detections(*outputs, self.image_size, orig_sizes)
        cls_logits, bbox_regression = outputs
        return post(cls_logits.float(), bbox_regression.float(), self.anchors, self.image_size, orig_sizes)

    def _postprocessor(
        self, score_threshold: float | None, max_detections: int | None, classes: list[str] | None
    ) -> Postprocessor:
        post = copy.copy(self.postprocessor)
        if score_threshold is not None:
            if not 0 <= score_threshold <= 1:
                raise ValueError(f"score_threshold = {score_threshold}: a score threshold must lie in [0, 1], e.g. 0.3")
            post.score_threshold = score_threshold
        if max_detections is not None:
            if isinstance(max_detections, bool) or not isinstance(max_detections, int) or max_detections < 1:
                raise ValueError(f"max_detections = {max_detections!r}: give a whole number of at least 1, e.g. 100")
            post.max_detections_per_image = max_detections
        if classes is not None:
            unknown = set(classes) - set(self.class_names)
            if unknown:
                raise ValueError(f"unknown classes {sorted(unknown)}; this model knows {list(self.class_names)}")
            post.labels_to_keep = {self.class_names.index(name) + 1 for name in classes}
        return post

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


def _exported_postprocessing(model_cfg: ModelConfig) -> tuple[Postprocessor, torch.Tensor]:
    """(postprocessor, anchors) of an exported network's config, built as `build_model` builds them."""
    return build_postprocessor(model_cfg, build_loss(model_cfg).score_activation), build_anchors(model_cfg)


def leave_the_cores_to_the_runtime(detector: Detector) -> None:
    """For a process that runs `detector` frame after frame (`tools/infer.py`, `tools/track.py`): with an
    exported network torch only pre- and post-processes, so it runs on one thread; its idle pool threads
    would otherwise spin beside the runtime's (docs/benchmarks.md). A Detector does not switch threads per
    call: the switch itself can take longer than the network."""
    if detector.backend != "pytorch":
        torch.set_num_threads(1)
