"""`benchmarks/benchmark.py --deploy`: `ssdlite benchmark`'s runtimes with torchvision's SSDLite timed in the same
rounds. Every runtime is tested through `ssdlite benchmark` (tests/inference/test_runtime_benchmark.py); here
PyTorch alone beside the reference."""

import pytest
from deployment_files import tiny_checkpoint_and_data

from deployment import format_deployment_table, run_deployment_benchmark
from ssdlite.config import load_config
from torchvision_reference import NAME


@pytest.mark.slow
def test_torchvision_is_timed_beside_the_runtimes(tmp_path):
    checkpoint, data_config = tiny_checkpoint_and_data(tmp_path)
    results = run_deployment_benchmark(str(checkpoint), load_config(data_config).data, quick=True, variants=("pytorch",))

    assert set(results) == {"pytorch", NAME}
    assert set(results[NAME]) == {"end_to_end_b1_ms", "throughput_b8_img_s"}
    header, ours, theirs = format_deployment_table(results).splitlines()
    assert header.endswith("e2e b1 / torchvision") and theirs.startswith(NAME) and theirs.endswith(" 1.00")
    assert float(ours.split()[-1]) == pytest.approx(
        results["pytorch"]["end_to_end_b1_ms"] / results[NAME]["end_to_end_b1_ms"], abs=0.01
    )
