"""Speed and size against torchvision's SSDLite320-MobileNetV3, measured in one run.

Every figure is the median of repeated runs after warm-up, on this CPU with
a stated thread count. Both models are randomly initialised with 91 classes;
ours takes the model section of a config (the paper model at 300x300 by default),
torchvision's resizes every input to 320x320 itself.
"""

import dataclasses
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from ssdlite.config import Config, DataConfig, ModelConfig
from ssdlite.data.batch import collate
from ssdlite.data.build import build_dataset
from ssdlite.data.synthetic import images_per_second, make_synthetic_dataset
from ssdlite.inference.export import export_onnx
from ssdlite.model.build import build_model
from torchvision_reference import NAME, build_reference

NUM_CLASSES = 91


def median_ms(fn: Callable[[], object], warmup: int, repeats: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def size(model: torch.nn.Module, run: Callable[[], object]) -> tuple[float, float]:
    """(parameters, multiply-adds) in millions / billions for one call of `run`."""
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        run()
    return sum(p.numel() for p in model.parameters()) / 1e6, counter.get_total_flops() / 2e9


def random_targets(batch: int, image_size: tuple[int, int], generator: torch.Generator) -> list[dict]:
    """Three random boxes per image, xyxy pixels inside an image of `image_size` (height, width)."""
    height, width = image_size
    scale = torch.tensor([width, height, width, height]) / 3
    targets = []
    for _ in range(batch):
        top_left = torch.rand(3, 2, generator=generator)
        size = 0.1 + torch.rand(3, 2, generator=generator) * 0.9
        boxes = torch.cat([top_left, top_left + size], dim=1) * scale  # inside the image's top-left 2/3
        targets.append({"boxes": boxes, "labels": torch.randint(1, NUM_CLASSES, (3,), generator=generator)})
    return targets


def train_step_images_per_s(model, step: Callable[[], torch.Tensor], batch: int, warmup: int, repeats: int) -> float:
    """Images per second of forward, loss, backward and an SGD step, once settled: a run's
    first steps are up to 1.6x slower while the allocator and oneDNN warm up."""
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def one_step():
        loss = step()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    model.train()
    seconds = median_ms(one_step, warmup, repeats) / 1000
    model.eval()
    return batch / seconds


def measure_ours(
    model,
    model_config: ModelConfig,
    images: dict[int, torch.Tensor],
    targets: list[dict],
    warmup: int,
    repeats: int,
    onnx_dir: Path,
) -> dict:
    import onnxruntime

    params, madds = size(model, lambda: model(images[1]))
    with torch.inference_mode():
        outputs = model(images[1])
        results = {
            "params_M": params,
            "madds_G": madds,
            "latency_b1_eager_ms": median_ms(lambda: model.predict(images[1]), warmup, repeats),
            "throughput_b8_img_s": 8000 / median_ms(lambda: model.predict(images[8]), warmup, max(1, repeats // 4)),
            "postprocess_ms_per_image": median_ms(lambda: model.postprocess(*outputs), warmup, repeats),
        }
    # before onnxruntime starts: its idle threads spin and would slow the step down
    step = lambda: model.loss(*model(images[16]), targets)["loss"]  # noqa: E731
    results["train_step_b16_img_s"] = train_step_images_per_s(model, step, 16, 2 * warmup, max(1, repeats // 3))
    path = export_onnx(model, Config(model=model_config), tuple(f"c{i}" for i in range(1, NUM_CLASSES)), onnx_dir / "ours.onnx")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    array = images[1].numpy()

    def onnx_predict():
        cls_logits, bbox_regression = session.run(None, {"images": array})
        return model.postprocess(torch.from_numpy(cls_logits), torch.from_numpy(bbox_regression))

    results["latency_b1_onnxruntime_ms"] = median_ms(onnx_predict, warmup, repeats)
    return results


def measure_torchvision(images: dict[int, torch.Tensor], targets: list[dict], warmup: int, repeats: int) -> dict:
    image_size = tuple(images[1].shape[-2:])
    model = build_reference(NUM_CLASSES).eval()
    one, eight, sixteen = list(images[1]), list(images[8]), list(images[16])
    params, madds = size(model, lambda: model(one))
    with torch.inference_mode():
        results = {
            "params_M": params,
            "madds_G": madds,
            "latency_b1_eager_ms": median_ms(lambda: model(one), warmup, repeats),
            "throughput_b8_img_s": 8000 / median_ms(lambda: model(eight), warmup, max(1, repeats // 4)),
        }
        transformed, _ = model.transform(one)
        features = list(model.backbone(transformed.tensors).values())
        head_outputs = model.head(features)
        anchors = model.anchor_generator(transformed, features)

        def postprocess():
            detections = model.postprocess_detections(head_outputs, anchors, transformed.image_sizes)
            return model.transform.postprocess(detections, transformed.image_sizes, [image_size])

        results["postprocess_ms_per_image"] = median_ms(postprocess, warmup, repeats)
    step = lambda: sum(model(sixteen, targets).values())  # noqa: E731
    results["train_step_b16_img_s"] = train_step_images_per_s(model, step, 16, 2 * warmup, max(1, repeats // 3))
    return results


def measure_data(num_images: int, image_size: tuple[int, int], folder: Path) -> dict:
    """The training input pipeline (decode, augment, resize, collate) in one process,
    on built-in driving images (640x360 JPEGs), and the generator that makes them."""
    cfg = DataConfig()  # the built-in data as a config makes it
    paths = make_synthetic_dataset(folder, num_train=num_images, num_val=1, seed=cfg.synthetic_seed, scene=cfg.synthetic_scene)
    cfg = dataclasses.replace(cfg, train_images=str(paths["train_images"]), train_annotations=str(paths["train_annotations"]))
    dataset = build_dataset(cfg, "train", image_size)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, num_workers=0, collate_fn=collate, shuffle=True)
    start = time.perf_counter()
    count = sum(len(images) for images, _ in loader)
    return {
        "train_pipeline_img_s": count / (time.perf_counter() - start),
        "synthetic_generator_img_s": images_per_second(num_images, seed=cfg.synthetic_seed, scene=cfg.synthetic_scene),
    }


def run_benchmark(model_config: ModelConfig, *, threads: int | None = None, quick: bool = False) -> dict:
    """Both models' figures and their ratios (ours / theirs)."""
    image_size = tuple(model_config.image_size)
    if threads:
        torch.set_num_threads(threads)
    warmup, repeats = (0, 1) if quick else (5, 30)  # quick: each figure once, a smoke run
    generator = torch.Generator().manual_seed(0)
    images = {b: torch.rand(b, 3, *image_size, generator=generator) for b in (1, 8, 16)}
    targets = random_targets(16, image_size, generator)
    torch.manual_seed(0)
    model = build_model(model_config, NUM_CLASSES).eval()
    with tempfile.TemporaryDirectory() as folder:
        ours = measure_ours(model, model_config, images, targets, warmup, repeats, Path(folder))
        data = measure_data(8 if quick else 256, image_size, Path(folder) / "data")
    theirs = measure_torchvision(images, targets, warmup, repeats)  # both models take [0, 1]
    ratios = {key: ours[key] / theirs[key] for key in theirs}
    ratios["latency_b1_onnxruntime_ms"] = ours["latency_b1_onnxruntime_ms"] / theirs["latency_b1_eager_ms"]
    return {
        "threads": torch.get_num_threads(),
        "image_size": list(image_size),
        "data_one_process": data,
        "ours": ours,
        NAME: theirs,
        "ratio_ours_over_theirs": ratios,
    }


def format_table(results: dict) -> str:
    ours, theirs, ratios = (
        results["ours"],
        results[NAME],
        results["ratio_ours_over_theirs"],
    )
    height, width = results["image_size"]
    title = f"figure (threads={results['threads']}, {height}x{width})"
    lines = [f"{title:<34}{'ours':>10}{'torchvision':>13}{'ratio':>8}"]
    for key in ours:
        theirs_value = theirs.get(key, theirs["latency_b1_eager_ms"] if key == "latency_b1_onnxruntime_ms" else None)
        note = "  (vs their eager)" if key == "latency_b1_onnxruntime_ms" else ""
        lines.append(f"{key:<34}{ours[key]:>10.2f}{theirs_value:>13.2f}{ratios[key]:>8.2f}{note}")
    lines += [f"{key:<34}{value:>10.1f}  (one process)" for key, value in results["data_one_process"].items()]
    return "\n".join(lines)
