import json

import pytest


def test_a_missing_config_is_named(tmp_path, run_benchmark):
    result = run_benchmark("benchmark.py", str(tmp_path / "nowhere.py"), "--out", str(tmp_path / "bench.json"))
    assert result.returncode != 0 and f"config file {tmp_path / 'nowhere.py'} does not exist" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "bench.json").exists()


@pytest.mark.slow
def test_quick_benchmark_reports_both_models(tmp_path, run_benchmark):
    out = tmp_path / "bench.json"
    result = run_benchmark("benchmark.py", "--quick", "--threads", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads(out.read_text())
    keys = {
        "params_M",
        "madds_G",
        "latency_b1_eager_ms",
        "throughput_b8_img_s",
        "postprocess_ms_per_image",
        "train_step_b16_img_s",
    }
    assert keys <= set(results["torchvision_ssdlite320_mobilenet_v3_large"])
    assert keys | {"latency_b1_onnxruntime_ms"} <= set(results["ours"]) == set(results["ratio_ours_over_theirs"])
    assert results["threads"] == 1 and 4.2 < results["ours"]["params_M"] < 4.6
    assert results["data_one_process"]["train_pipeline_img_s"] > 0
    assert "latency_b1_onnxruntime_ms" in result.stdout
