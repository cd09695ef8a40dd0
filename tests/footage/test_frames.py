"""tools/frames.py's library: sampling, near-duplicate skipping, the split by video, truncated videos."""

import json
import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tool_process import run_tool

from ssdlite.data.synthetic_video import moving_scene
from ssdlite.footage.frames import Sampling, extract_frames, split_by_video
from ssdlite.inference.inputs import resolve_source
from ssdlite.video import open_video_writer

FPS = 10


def write_clip(path: Path, num_frames: int, *, stop: tuple[float, float] | None = None, seed: int = 0) -> Path:
    """The built-in road scene at 320x180 and 10 fps, with the sensor noise of a real camera (a still picture
    is never quite the same twice), through H.264."""
    rng = np.random.default_rng(seed)
    writer = open_video_writer(path, FPS, (320, 180))
    for image, _ in moving_scene(seed, image_size=(180, 320), scene="close", num_frames=num_frames, fps=FPS, stop=stop):
        writer.write(np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8))
    writer.release()
    return path


def frame_numbers(names: list[str]) -> list[int]:
    return [int(Path(name).stem.rsplit("_", 1)[1]) for name in names]


@pytest.fixture(scope="module")
def stop_clip(tmp_path_factory) -> Path:
    """10 s with a 5 s stop from 3 s: frames 30 to 79 show one picture."""
    return write_clip(tmp_path_factory.mktemp("stop") / "drive.mp4", 100, stop=(3.0, 5.0))


def test_of_a_5_s_stop_at_most_2_frames_are_kept(stop_clip, tmp_path):
    (result,) = extract_frames(resolve_source(stop_clip), tmp_path / "all", Sampling(min_difference=0))
    assert frame_numbers(result.kept) == list(range(100))  # without skipping, every frame
    (result,) = extract_frames(resolve_source(stop_clip), tmp_path / "out", Sampling())
    kept = frame_numbers(result.kept)
    assert len([n for n in kept if 30 <= n < 80]) <= 2
    assert any(n < 30 for n in kept[1:]) and any(n >= 80 for n in kept), kept  # the moving road is kept
    assert result.skipped_similar == 100 - len(kept) and result.frames_read == 100


def test_sampling_every_fps_and_max():
    assert Sampling(fps=1).step(30) == 30 and Sampling(fps=2).step(29.97) == 15 and Sampling(every=5).step(30) == 5
    assert Sampling().step(25) == 1
    with pytest.raises(ValueError, match="--every or --fps, not both"):
        Sampling(every=2, fps=1)
    with pytest.raises(ValueError, match="--fps must be above 0"):
        Sampling(fps=0)
    with pytest.raises(ValueError, match="1 or more, got 0"):
        Sampling(every=0)


def test_every_and_max_per_video(stop_clip, tmp_path):
    (result,) = extract_frames(resolve_source(stop_clip), tmp_path, Sampling(every=7, max_per_video=3, min_difference=0))
    assert frame_numbers(result.kept) == [0, 7, 14]


def test_the_split_is_by_video_the_last_ones_val(tmp_path):
    for index in range(3):
        write_clip(tmp_path / "cam" / f"2024_0{index}.mp4", 4, seed=index)
    results = extract_frames(resolve_source(tmp_path / "cam"), tmp_path / "out", Sampling(min_difference=0), val_fraction=0.3)
    assert [(Path(r.video).name, r.split, len(r.kept)) for r in results] == [
        ("2024_00.mp4", "train", 4), ("2024_01.mp4", "train", 4), ("2024_02.mp4", "val", 4),
    ]  # fmt: skip
    for split, videos in (("train", {"2024_00", "2024_01"}), ("val", {"2024_02"})):
        coco = json.loads((tmp_path / "out" / f"{split}.json").read_text())
        assert coco["annotations"] == [] and [image["id"] for image in coco["images"]] == list(range(1, len(coco["images"]) + 1))
        assert {Path(image["video"]).stem for image in coco["images"]} == videos
        assert all((tmp_path / "out" / split / image["file_name"]).is_file() for image in coco["images"])
        assert {(image["width"], image["height"]) for image in coco["images"]} == {(320, 180)}
    with pytest.raises(ValueError, match="holds frames already"):
        extract_frames(resolve_source(tmp_path / "cam"), tmp_path / "out", Sampling())


def test_split_by_video(caplog):
    videos = tuple(Path(f"{minute:02d}.mp4") for minute in range(5))
    assert [split_by_video(videos, 0.2)[v] for v in videos] == ["train"] * 4 + ["val"]
    assert [split_by_video(videos, 0.01)[v] for v in videos] == ["train"] * 4 + ["val"]  # val is never empty
    assert set(split_by_video(videos, 0).values()) == {"train"}
    with caplog.at_level(logging.WARNING):
        assert split_by_video(videos[:1], 0.2) == {videos[0]: "train"}
    assert "one video cannot be split by video" in caplog.text


def test_a_truncated_video_is_named_and_its_good_frames_kept(tmp_path, caplog):
    writer = open_video_writer(tmp_path / "full.mp4", FPS, (64, 48))
    rng = np.random.default_rng(0)
    for _ in range(48):
        writer.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))  # noise: every frame many bytes
    writer.release()
    data = (tmp_path / "full.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: int(len(data) * 0.6)])
    with caplog.at_level(logging.WARNING):
        (result,) = extract_frames(resolve_source(tmp_path / "cut.mp4"), tmp_path / "out", Sampling())
    kept = frame_numbers(result.kept)  # every frame that decodes: a damaged one keeps its number, unkept
    assert 20 <= result.frames_read == len(kept) < 40 and kept == sorted(set(kept)) and kept[-1] < 48
    assert (
        result.problem.startswith(f"{tmp_path / 'cut.mp4'}: read {result.frames_read} of 48 frames")
        and result.problem in caplog.text
    )
    assert len(list((tmp_path / "out" / "train").iterdir())) == result.frames_read


@pytest.mark.slow  # a Python that imports torch
def test_the_tool_reports_each_video_and_a_source_matching_nothing_in_one_line(stop_clip, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return run_tool("tools/frames.py", *args)

    result = run(str(stop_clip), "--out", str(tmp_path / "out"), "--fps", "5")
    assert result.returncode == 0, result.stderr
    assert f"{stop_clip} (train): kept " in result.stdout and "100 frames read in" in result.stdout
    result = run(str(tmp_path / "nothing*.mp4"), "--out", str(tmp_path / "none"))
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {tmp_path / 'nothing*.mp4'}: no such file or folder")
    assert not (tmp_path / "none").exists()
