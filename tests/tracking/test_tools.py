"""tools/track.py and tools/eval_tracking.py end to end on a small untrained model, and their one-line errors."""

import csv
import json

import cv2
import pytest
from tool_process import error_line, run_tool

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import Config, ModelConfig
from ssdlite.data.synthetic import write_clip
from ssdlite.model.build import build_model

pytestmark = pytest.mark.slow  # each case starts a Python that imports torch


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("tools")
    checkpoint = root / "model.ckpt"
    model_config = ModelConfig(image_size=(96, 160), width_mult=0.35)
    save_checkpoint(checkpoint, build_model(model_config, num_classes=3), Config(model=model_config), ("person", "car"))
    return checkpoint, write_clip(root / "clip.mp4", seed=1, image_size=(180, 320), scene="close", num_frames=12, fps=10)


def test_track_writes_the_video_records_tracks_and_counts(setup, tmp_path):
    checkpoint, clip = setup
    out = tmp_path / "out"
    result = run_tool("tools/track.py", "--checkpoint", str(checkpoint), "--source", str(clip), "--out", str(out), "--every", "2",
                 "--count-line", "160,0,160,180", "--score-threshold", "0.01", "--track-threshold", "0.05")  # fmt: skip
    assert result.returncode == 0, result.stderr
    capture = cv2.VideoCapture(str(out / "clip.mp4"))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 12 and capture.get(cv2.CAP_PROP_FPS) == 10
    records = [json.loads(line) for line in (out / "tracks.jsonl").read_text().splitlines()]
    assert [record["frame"] for record in records] == list(range(12))
    assert all(len(r["track_ids"]) == len(r["boxes"]) == len(r["predicted"]) for r in records)
    assert any(r["track_ids"] for r in records) and all(all(r["predicted"]) for r in records[3::2])
    rows = list(csv.DictReader((out / "tracks.csv").open()))
    assert rows and set(rows[0]) == {"track_id", "class_name", "first_frame", "last_frame", "frames_seen", "mean_score"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 12 and summary["count_line"] == [160, 0, 160, 180] and "counts" in summary
    assert sum(summary["tracks_per_class"].values()) == summary["tracks"] == len(rows)
    assert set(summary["tracks_per_class"]) == {row["class_name"] for row in rows}


def test_bad_video_and_bad_line_are_one_line_errors(setup, tmp_path):
    checkpoint, clip = setup
    args = ("--checkpoint", str(checkpoint), "--out", str(tmp_path / "out"))
    (tmp_path / "notes.mp4").write_text("not a video")
    error_line(run_tool("tools/track.py", *args, "--source", tmp_path / "notes.mp4"), tmp_path / "notes.mp4")
    result = run_tool("tools/track.py", *args, "--source", clip, "--count-line", "0,400,320,400")
    error_line(result, "--count-line 0,400,320,400", "320x180")  # the option and the frame it must lie in


def test_eval_tracking_names_a_malformed_ground_truth(setup, tmp_path):
    checkpoint, clip = setup
    gt = tmp_path / "gt.txt"
    gt.write_text("1,2,3\n")
    error_line(run_tool("tools/eval_tracking.py", "--checkpoint", checkpoint, "--clip", clip, "--gt", gt), gt, "MOT")
