"""A trained checkpoint in every runtime, in one process, beside torchvision's SSDLite: latency, throughput and COCO mAP.

The runtimes are `ssdlite benchmark`'s (`ssdlite.inference.runtime_benchmark`): PyTorch eager,
onnxruntime fp32 and INT8, OpenVINO fp32 and INT8, made from the checkpoint. torchvision's
`ssdlite320_mobilenet_v3_large` eager (random weights) is the reference: timed on the same images in
the same interleaved rounds, not scored.
"""

import torch

from ssdlite.config import DataConfig
from ssdlite.inference.runtime_benchmark import VARIANTS, TimingFunctions, benchmark_runtimes, format_table
from torchvision_reference import NAME, build_reference


def reference_timings(images: torch.Tensor) -> TimingFunctions:
    """torchvision's SSDLite end to end at batch 1 and 8 on `images` (Tensor[8, 3, H, W] RGB in [0, 1],
    as ours takes them; it resizes them itself)."""
    reference = build_reference().eval()
    one, eight = list(images[:1]), list(images[:8])
    return {(NAME, "end_to_end_b1_ms"): lambda: reference(one), (NAME, "end_to_end_b8_ms"): lambda: reference(eight)}


def run_deployment_benchmark(
    checkpoint: str,
    data: DataConfig,
    *,
    threads: int | None = None,
    quick: bool = False,
    variants: tuple[str, ...] = tuple(VARIANTS),
) -> dict[str, dict[str, float]]:
    """`benchmark_runtimes`' figures of each of `variants` (default: every one), and torchvision's
    "end_to_end_b1_ms" and "throughput_b8_img_s"."""
    if threads:
        torch.set_num_threads(threads)
    return benchmark_runtimes(checkpoint, data, variants=list(variants), quick=quick, more_timings=reference_timings)


def format_deployment_table(results: dict[str, dict[str, float]]) -> str:
    """`format_table` with a column of each row's end-to-end batch-1 time over torchvision's."""
    reference = results[NAME]["end_to_end_b1_ms"]
    header, *lines = format_table(results).splitlines()
    ratios = [f"{row['end_to_end_b1_ms'] / reference:>22.2f}" for row in results.values()]
    return "\n".join([f"{header}{'e2e b1 / torchvision':>22}", *(line + ratio for line, ratio in zip(lines, ratios))])
