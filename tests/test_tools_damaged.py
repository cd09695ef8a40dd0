"""Damaged pictures and videos through the tools: skipped or read as far as they go, always said, and counted."""

import json
from pathlib import Path

import pytest
from coco_files import ann, damage_two_images, write_coco
from tool_process import error_line, line_naming, run_tool

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import Config, ModelConfig
from ssdlite.data.synthetic import write_clip
from ssdlite.model.build import build_model

pytestmark = pytest.mark.slow  # each case starts a Python that imports torch


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.ckpt"
    model_config = ModelConfig(image_size=(96, 160), width_mult=0.35)
    save_checkpoint(path, build_model(model_config, num_classes=3), Config(model=model_config), ("person", "car"))
    return path


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory) -> Path:
    """A 48-frame dash-cam clip as our writer makes it (index at the front), cut to 60 % of its bytes."""
    root = tmp_path_factory.mktemp("clip")
    clip = write_clip(root / "full.mp4", seed=1, image_size=(180, 320), scene="close", num_frames=48, fps=10)
    data = clip.read_bytes()
    (root / "cut.mp4").write_bytes(data[: int(len(data) * 0.6)])
    return root / "cut.mp4"


@pytest.fixture
def damaged_set(tmp_path) -> Path:
    """Four images, 1.jpg truncated and 2.png with a broken chunk; the annotation file."""
    annotations = write_coco(tmp_path, [ann(1, 3, 1, [10, 10, 40, 30]), ann(2, 4, 3, [20, 20, 30, 30])], num_images=4)
    damage_two_images(annotations)
    return annotations


def assert_named(stderr: str, images: Path) -> None:
    """Each damaged image is named with its id and what is wrong with it."""
    line_naming(stderr, images / "1.jpg", "image id 1", "truncated")
    line_naming(stderr, images / "2.png", "image id 2", "PNG")


def test_train_skips_names_and_counts_damaged_images_and_ends_normally(damaged_set, tmp_path):
    images = tmp_path / "images"
    settings = [f"data.{split}_images={images}" for split in ("train", "val")]
    settings += [f"data.{split}_annotations={damaged_set}" for split in ("train", "val")]
    result = run_tool("tools/train.py", "configs/synthetic_driving.py", "--work-dir", tmp_path / "run", "--set",
                      "data.synthetic=False", "data.num_workers=0", "data.classes=('person','car')", "data.batch_size=2",
                      "data.max_bad_image_fraction=0.5", "model.image_size=(96,160)", "model.width_mult=0.35",
                      "train.max_epochs=1", "train.eval_every_n_epochs=1", "train.warmup_steps=1", *settings)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert_named(result.stderr, images)
    assert json.loads((tmp_path / "run" / "final_metrics.json").read_text())["val/num_images_skipped"] == 2
    too_many = run_tool("tools/train.py", "configs/synthetic_driving.py", "--work-dir", tmp_path / "run2", "--set",
                        "data.synthetic=False", "data.num_workers=0", "data.classes=('person','car')",
                        "data.max_bad_image_fraction=0.25", *settings)  # fmt: skip
    error_line(too_many, "2 unreadable images", "data.max_bad_image_fraction")  # how many, and the setting that allows more


def test_eval_skips_damaged_images_and_counts_them_in_metrics_json(damaged_set, checkpoint, tmp_path):
    images = tmp_path / "images"
    result = run_tool("tools/eval.py", "--checkpoint", checkpoint, "--out", tmp_path / "eval", "--set",
                      f"data.val_images={images}", f"data.val_annotations={damaged_set}", "data.num_workers=0",
                      "data.max_bad_image_fraction=0.5")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert_named(result.stderr, images)
    line_naming(result.stdout, "2 of 4", "[1, 2]")
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["num_images"] == 2 and metrics["num_images_skipped"] == 2 and metrics["skipped_image_ids"] == [1, 2]


def test_infer_skips_damaged_images_and_says_so(damaged_set, checkpoint, tmp_path):
    images = tmp_path / "images"
    result = run_tool("tools/infer.py", "--checkpoint", checkpoint, "--source", images, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    line_naming(result.stderr, images / "1.jpg", "truncated")
    line_naming(result.stderr, images / "2.png", "PNG")
    assert sorted(path.stem for path in (tmp_path / "out").glob("*.jpg")) == ["3", "4"]  # the readable ones
    assert len((tmp_path / "out" / "detections.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize("tool", ["infer.py", "track.py"])
def test_a_video_cut_short_is_read_as_far_as_it_goes_and_said(checkpoint, cut_clip, tmp_path, tool):
    out = tmp_path / "out"
    result = run_tool(f"tools/{tool}", "--checkpoint", checkpoint, "--source", cut_clip, "--out", out)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    read, stopped = summary["frames_read"], summary["stopped_at_frame"]
    assert summary["frames_expected"] == 48 and 0 < read < 48 and read <= stopped < 48
    lines = [line for line in result.stderr.splitlines() if line.startswith(str(cut_clip))]
    assert len(lines) == 1 and f"{read} of 48" in lines[0] and f"frame {stopped}" in lines[0]
    records = (out / ("detections.jsonl" if tool == "infer.py" else "tracks.jsonl")).read_text().splitlines()
    assert len(records) == read


def test_browse_dataset_lists_damaged_images_with_their_ids(damaged_set, tmp_path):
    images = tmp_path / "images"
    result = run_tool("tools/browse_dataset.py", "configs/synthetic_driving.py", "--out", tmp_path / "out", "--num", "2",
                      "--set", "data.synthetic=False", f"data.train_images={images}", f"data.train_annotations={damaged_set}",
                      "data.classes=('person','car')", "data.max_bad_image_fraction=0.5")  # fmt: skip
    assert result.returncode == 0, result.stderr
    line_naming(result.stdout, "2 of 4")
    line_naming(result.stdout, "image id 1", images / "1.jpg", "truncated")
    line_naming(result.stdout, "image id 2", images / "2.png", "PNG")
