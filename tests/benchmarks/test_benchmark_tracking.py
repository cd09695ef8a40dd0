"""The tracking benchmark: the tracker alone on the clip's ground truth, and its tool end to end."""

import json

import pytest

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import Config, ModelConfig
from ssdlite.data.synthetic import write_clip
from ssdlite.model.build import build_model
from ssdlite.tracking.evaluate import CATEGORY_NAMES
from ssdlite.tracking.mot import read_ground_truth
from tracking_measures import tracker_alone_metrics, tracker_ms_per_frame


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(
        tmp_path_factory.mktemp("clip") / "clip.mp4", seed=2, image_size=(180, 320), scene="close", num_frames=40, fps=25
    )


def test_the_tracker_keeps_ids_on_clean_detections_and_loses_objects_to_missed_ones(clip):
    gt_frames = read_ground_truth(clip.with_name("gt.txt"), CATEGORY_NAMES, 40)
    clean = tracker_alone_metrics(gt_frames, 25, drop=0.0, jitter=0.0)
    missed = tracker_alone_metrics(gt_frames, 25, drop=0.5, jitter=0.0)
    num_objects = len({track_id for frame in gt_frames for track_id in frame.ids.tolist()})
    # a track is confirmed on its second frame: the first box of each object is the only miss
    assert clean["CLR_FN"] == num_objects and clean["IDSW"] == clean["CLR_FP"] == 0
    assert missed["CLR_FN"] > clean["CLR_FN"] and missed["MOTA"] < clean["MOTA"]


def test_the_tracker_time_is_per_frame():
    assert 0 < tracker_ms_per_frame(num_objects=5, num_frames=20) < 1000


@pytest.mark.slow
def test_the_tool_writes_every_figure(tmp_path, run_benchmark):
    model_config = ModelConfig(image_size=(96, 160), width_mult=0.35)
    checkpoint = tmp_path / "model.ckpt"
    save_checkpoint(checkpoint, build_model(model_config, num_classes=3), Config(model=model_config), ("person", "car"))
    result = run_benchmark(
        "benchmark_tracking.py",
        "--checkpoint",
        str(checkpoint),
        "--frames",
        "12",
        "--size",
        "180",
        "320",
        "--threads",
        "1",
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads((tmp_path / "out/results.json").read_text())
    figures = {"every_1", "every_2", "tracker_alone", "tracker_ms_per_frame_20_objects", "fps_every_1", "fps_every_2"}
    assert figures <= set(results)
    assert results["frames"] == 12 and results["fps_every_2"]["tracking"] > 0
    assert "ms per frame at 20 objects" in result.stdout


@pytest.mark.slow
def test_a_missing_checkpoint_is_one_line_error(tmp_path, run_benchmark):
    result = run_benchmark(
        "benchmark_tracking.py", "--checkpoint", str(tmp_path / "nowhere.ckpt"), "--out", str(tmp_path / "out")
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and "nowhere.ckpt" in result.stderr
    assert not (tmp_path / "out" / "results.json").exists()
