"""`ssdlite benchmark` (ssdlite/inference/runtime_benchmark.py, ssdlite/commands/benchmark.py): a checkpoint in each
runtime this machine has, timed and scored; a runtime whose packages are missing is left out in one line naming the
extra that installs them."""

import json
import sys
import time

import pytest
from deployment_files import tiny_checkpoint_and_data
from tool_process import REPO, line_naming, run_tool

from ssdlite.commands.benchmark import main
from ssdlite.inference.runtime_benchmark import FIGURES, VARIANTS, interleaved_median_ms, runnable

DEPLOY_PACKAGES = ("onnx", "onnxruntime", "openvino", "nncf")
EXTRA = 'pip install "ssdlite[deploy]"'


def not_installed(monkeypatch, *packages: str) -> None:
    """As if `packages` were not installed: importing them fails and `importlib.util.find_spec` finds nothing."""
    for package in packages:
        monkeypatch.setitem(sys.modules, package, None)


def test_a_timed_function_may_time_its_own_part():
    # post-processing is timed after a network call it does not count
    times = interleaved_median_ms({"sleeps": lambda: time.sleep(0.01), "reports": lambda: 0.5}, warmup=1, rounds=3)
    assert times["reports"] == 500.0 and 10 <= times["sleeps"] < 500


def test_a_runtime_without_its_package_is_left_out_in_one_line(monkeypatch):
    not_installed(monkeypatch, "openvino")
    variants, line = runnable(["pytorch", "onnxruntime", "openvino"], int8=True)
    assert variants == ["pytorch", "onnxruntime_fp32", "onnxruntime_int8"]
    assert line_naming(line, "openvino_fp32", "openvino_int8", "openvino not installed", EXTRA) == line


def test_int8_alone_needs_nncf(monkeypatch):
    not_installed(monkeypatch, "nncf")
    variants, line = runnable(["openvino"], int8=True)
    assert variants == ["openvino_fp32"] and line_naming(line, "openvino_int8", "nncf", EXTRA) == line
    assert "openvino_fp32" not in line
    assert runnable(["openvino"], int8=False) == (["openvino_fp32"], None)
    assert runnable(["pytorch"], int8=True) == (["pytorch"], None)


@pytest.mark.slow
def test_without_the_deploy_extra_pytorch_is_measured(tmp_path, monkeypatch, capsys):
    checkpoint, data_config = tiny_checkpoint_and_data(tmp_path)
    not_installed(monkeypatch, *DEPLOY_PACKAGES)
    out = tmp_path / "benchmark.json"
    main([str(checkpoint), "--data", str(data_config), "--quick", "--out", str(out)])
    printed = capsys.readouterr().out
    line_naming(printed, *[name for name in VARIANTS if name != "pytorch"], *DEPLOY_PACKAGES, EXTRA)
    assert sum(EXTRA in line for line in printed.splitlines()) == 1
    results = json.loads(out.read_text())
    assert set(results) == {"pytorch"} and set(results["pytorch"]) == set(FIGURES)


def test_nothing_left_to_measure_is_one_error_line(monkeypatch):
    not_installed(monkeypatch, "openvino")
    with pytest.raises(SystemExit) as exit:  # before the checkpoint is read
        main(["missing.ckpt", "--data", str(REPO / "configs/synthetic_driving.py"), "--runtimes", "openvino"])
    assert exit.value.code.startswith("error: ") and line_naming(exit.value.code, "nothing to measure", "openvino", EXTRA)


@pytest.mark.slow
def test_every_runtime_is_timed_and_scored(tmp_path):
    checkpoint, data_config = tiny_checkpoint_and_data(tmp_path)
    out = tmp_path / "benchmark.json"
    result = run_tool("tools/benchmark.py", checkpoint, "--data", data_config, "--quick", "--threads", "2", "--out", out)
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads(out.read_text())

    assert set(results) == set(VARIANTS)
    for row in results.values():
        assert set(row) == set(FIGURES) and row["postprocess_b1_ms"] > 0 and 0 <= row["mAP"] <= 100
    assert results["openvino_fp32"]["mAP"] == pytest.approx(results["pytorch"]["mAP"], abs=0.1)
    table = result.stdout.splitlines()
    assert any(line.startswith("openvino_int8 ") for line in table) and "skipping" not in result.stdout
