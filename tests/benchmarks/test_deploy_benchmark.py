"""`benchmarks/benchmark.py --deploy`: every runtime built from one checkpoint, timed and scored.

Run as the tool, in its own process: NNCF and OpenVINO's quantisation leave threads and
state behind that the rest of the suite should not inherit.
"""

import json

import pytest

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import Config, ModelConfig
from ssdlite.data.synthetic import make_synthetic_dataset
from ssdlite.data.synthetic_drawing import CATEGORIES
from ssdlite.model.build import build_model
from torchvision_reference import NAME

MODEL = ModelConfig(image_size=(96, 160), width_mult=0.5)
RUNTIMES = {"pytorch_eager", "onnxruntime_fp32", "onnxruntime_int8", "openvino_fp32", "openvino_int8"}


@pytest.mark.slow
def test_every_runtime_is_timed_and_scored(tmp_path, run_benchmark):
    data = make_synthetic_dataset(
        tmp_path / "data", num_train=32, num_val=4, seed=0, scene="close", image_size=(180, 320), clip_frames=1
    )
    data_config = tmp_path / "data_config.py"
    data_config.write_text(
        "from ssdlite.config import Config, DataConfig\n"
        "config = Config(data=DataConfig(\n"
        f"    train_images='{data['train_images']}', train_annotations='{data['train_annotations']}',\n"
        f"    val_images='{data['val_images']}', val_annotations='{data['val_annotations']}'))\n"
    )
    class_names = tuple(category["name"] for category in CATEGORIES)
    save_checkpoint(tmp_path / "model.ckpt", build_model(MODEL, len(class_names) + 1).eval(), Config(model=MODEL), class_names)

    out = tmp_path / "deploy.json"
    args = ["--deploy", str(tmp_path / "model.ckpt"), "--data", str(data_config), "--quick", "--out", str(out)]
    result = run_benchmark("benchmark.py", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads(out.read_text())

    assert set(results) == RUNTIMES | {NAME}
    for name in RUNTIMES:
        assert set(results[name]) == {"network_b1_ms", "end_to_end_b1_ms", "postprocess_b1_ms", "throughput_b8_img_s", "mAP"}
        assert results[name]["postprocess_b1_ms"] > 0 and 0 <= results[name]["mAP"] <= 100
    assert set(results[NAME]) == {"end_to_end_b1_ms", "throughput_b8_img_s"}
    assert results["openvino_fp32"]["mAP"] == pytest.approx(results["pytorch_eager"]["mAP"], abs=0.1)
    assert "openvino_int8" in result.stdout and "e2e b1 / torchvision" in result.stdout
