"""`benchmarks/benchmark.py --deploy`: `ssdlite benchmark`'s runtimes with torchvision's SSDLite timed in the same
rounds. Every runtime is tested through `ssdlite benchmark` (tests/inference/test_runtime_benchmark.py); here
PyTorch alone beside the reference."""

import pytest
from deployment_files import tiny_checkpoint_and_data

import deployment
from ssdlite.config import load_config
from torchvision_reference import NAME, build_reference


@pytest.mark.slow
def test_torchvision_is_timed_beside_the_runtimes(tmp_path, monkeypatch):
    # Random weights score every anchor above torchvision's default 0.001, and NMS over all of them takes
    # seconds a call; what is tested is where its timings go, not its speed.
    monkeypatch.setattr(deployment, "build_reference", lambda: build_reference(score_thresh=0.5))
    checkpoint, data_config = tiny_checkpoint_and_data(tmp_path)
    results = deployment.run_deployment_benchmark(
        str(checkpoint), load_config(data_config).data, quick=True, variants=("pytorch",)
    )

    assert set(results) == {"pytorch", NAME}
    assert set(results[NAME]) == {"end_to_end_b1_ms", "throughput_b8_img_s"}
    header, ours, theirs = deployment.format_deployment_table(results).splitlines()
    assert header.endswith("e2e b1 / torchvision") and theirs.startswith(NAME) and theirs.endswith(" 1.00")
    ratio = results["pytorch"]["end_to_end_b1_ms"] / results[NAME]["end_to_end_b1_ms"]
    assert float(ours.split()[-1]) == pytest.approx(ratio, abs=0.01)
