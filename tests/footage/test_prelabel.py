"""Pre-labelling: which boxes are kept (a scripted detector), the COCO file other tools read, and
tools/prelabel.py end to end on the built-in clip with its one-line errors."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv
from pycocotools.coco import COCO
from tool_process import error_line, run_tool

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import Config, ModelConfig
from ssdlite.data.synthetic import write_clip
from ssdlite.footage.prelabel import NO_TRACK, prelabel
from ssdlite.footage.prelabel_files import prelabel_footage
from ssdlite.inference.predictor import Detections
from ssdlite.model.build import build_model

CLASSES = ("car", "truck")
SIZE = (360, 640)


def car_at(frame: int) -> list[float]:
    """A 60x40 road user moving right at 8 px a frame."""
    x = 20 + 8 * frame
    return [x, 200, x + 60, 240]


class ScriptedDetector:
    """Detections by call: on its Nth frame, whatever the image, `script[N % len(script)]`: a list of
    (box, score, label); so every video of len(script) frames gets the same."""

    class_names = CLASSES

    def __init__(self, script: dict[int, list[tuple[list[float], float, int]]]):
        self.script = script
        self.calls = 0

    def predict(self, image, score_threshold: float, bgr: bool) -> list[Detections]:
        rows = [row for row in self.script[self.calls % len(self.script)] if row[1] > score_threshold]
        self.calls += 1
        boxes = np.array([box for box, _, _ in rows], np.float32).reshape(-1, 4)
        scores, labels = np.array([s for _, s, _ in rows]), np.array([label for _, _, label in rows], int)
        return [Detections(boxes, scores, labels, [CLASSES[label - 1] for label in labels], "", SIZE)]


def scripted_road() -> ScriptedDetector:
    """Six frames: a car seen on all (once taken for a truck), a lone flicker on frame 2, a road user
    on frames 4 and 5 only, and one on all frames never scoring above 0.3."""
    script = {frame: [(car_at(frame), 0.9, 2 if frame == 3 else 1)] for frame in range(6)}
    script[2].append(([400, 40, 440, 80], 0.9, 1))
    for frame in (4, 5):
        script[frame].append(([300 + 5 * frame, 300, 360 + 5 * frame, 350], 0.8, 2))
    for frame in range(6):
        script[frame].append(([500, 100, 540, 180], 0.3, 1))
    return ScriptedDetector(script)


def test_only_confident_boxes_of_long_tracks_are_kept_with_the_tracks_class():
    result = prelabel(scripted_road(), range(6), frame_rate=10)
    kept = result.frames
    # the car on every frame, its first too (reported by ByteTrack only once the track is confirmed)
    assert [len(frame.boxes) for frame in kept] == [1] * 6
    assert all(np.allclose(frame.boxes[0], car_at(index)) for index, frame in enumerate(kept))
    assert {int(frame.track_ids[0]) for frame in kept} == {int(kept[0].track_ids[0])} and kept[0].track_ids[0] != NO_TRACK
    assert [int(frame.labels[0]) for frame in kept] == [1] * 6  # the truck vote of frame 3 is outweighed
    assert result.counts() == {"frames": 6, "confident": 9, "kept": 6, "dropped_short_track": 2, "dropped_untracked": 1}


def test_one_track_frame_keeps_untracked_boxes_and_lower_scores_keep_more():
    result = prelabel(scripted_road(), range(6), frame_rate=10, min_track_frames=1)
    assert result.counts()["kept"] == 9
    assert NO_TRACK in result.frames[2].track_ids.tolist()  # the flicker: kept, in no track
    assert prelabel(scripted_road(), range(6), frame_rate=10, min_score=0.25).counts()["kept"] == 12


@pytest.mark.parametrize("settings, named", [({"min_score": 1.5}, "min_score"), ({"min_track_frames": 0}, "min_track_frames")])
def test_bad_settings_name_themselves(settings, named):
    with pytest.raises(ValueError, match=named):
        prelabel(scripted_road(), range(6), frame_rate=10, **settings)


def test_a_folder_of_frames_gives_a_coco_file_that_pycocotools_and_supervision_read(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    for index in range(6):
        cv2.imwrite(str(frames / f"{index:03d}.jpg"), np.zeros((*SIZE, 3), np.uint8))
    summary = prelabel_footage(scripted_road(), frames, tmp_path / "out", frame_rate=10)
    assert summary["kept"] == 6 and summary["images_labelled"] == 6 and summary["images"] == str(frames)
    coco = COCO(summary["annotations"])
    assert [coco.imgs[i]["file_name"] for i in sorted(coco.imgs)] == [f"{index:03d}.jpg" for index in range(6)]
    assert {a["attributes"]["track_id"] for a in coco.anns.values()} == {0} and all(a["score"] == 0.9 for a in coco.anns.values())
    dataset = sv.DetectionDataset.from_coco(str(frames), summary["annotations"])
    assert dataset.classes == list(CLASSES)
    path, _, boxes = dataset[0]
    assert Path(path).name == "000.jpg" and np.allclose(boxes.xyxy, [car_at(0)], atol=1e-3)


def test_each_video_is_its_own_sequence_with_its_own_track_ids(tmp_path):
    for name in ("minute_1", "minute_2"):
        write_clip(tmp_path / "videos" / f"{name}.mp4", seed=1, image_size=(90, 160), scene="close", num_frames=6, fps=10)
    summary = prelabel_footage(scripted_road(), tmp_path / "videos", tmp_path / "out", every=2)
    coco = json.loads(Path(summary["annotations"]).read_text())
    names = [f"minute_{minute}_{frame:06d}.jpg" for minute in (1, 2) for frame in (0, 2, 4)]
    assert [image["file_name"] for image in coco["images"]] == names and [image["id"] for image in coco["images"]] == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    assert sorted(path.name for path in (tmp_path / "out" / "images").iterdir()) == names
    track_of_image = {a["image_id"]: a["attributes"]["track_id"] for a in coco["annotations"]}
    assert track_of_image == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1, 6: 1}
    assert summary["kept"] == 6 and summary["tracks"] == 2 and summary["frames"] == 6


@pytest.fixture(scope="module")
def model_and_clip(tmp_path_factory):
    """An untrained model and a 12-frame built-in clip."""
    root = tmp_path_factory.mktemp("prelabel")
    model_config = ModelConfig(image_size=(96, 160), width_mult=0.35)
    save_checkpoint(root / "model.ckpt", build_model(model_config, num_classes=3), Config(model=model_config), CLASSES)
    return root / "model.ckpt", write_clip(root / "clip.mp4", seed=1, image_size=(180, 320), scene="close", num_frames=12, fps=10)


@pytest.mark.slow
def test_tool_writes_every_nth_frame_and_its_boxes(model_and_clip, tmp_path):
    checkpoint, clip = model_and_clip
    out = tmp_path / "out"
    # an untrained model scores everything low: keep it all to have boxes to write
    result = run_tool("tools/prelabel.py", "--checkpoint", checkpoint, "--source", clip, "--out", out, "--every", 3,
                      "--min-score", 0, "--min-track-frames", 1)  # fmt: skip
    assert result.returncode == 0, result.stderr
    coco = json.loads((out / "annotations.json").read_text())
    assert [image["file_name"] for image in coco["images"]] == [f"clip_{frame:06d}.jpg" for frame in (0, 3, 6, 9)]
    assert sorted(path.name for path in (out / "images").iterdir()) == [image["file_name"] for image in coco["images"]]
    assert coco["annotations"] and {a["category_id"] for a in coco["annotations"]} <= {1, 2}
    assert f"kept {len(coco['annotations'])} boxes" in result.stdout


@pytest.mark.slow
def test_unreadable_source_is_one_line_naming_it_and_writes_nothing(model_and_clip, tmp_path):
    checkpoint, _ = model_and_clip
    (tmp_path / "notes.mp4").write_text("not a video")
    result = run_tool(
        "tools/prelabel.py", "--checkpoint", checkpoint, "--source", tmp_path / "notes.mp4", "--out", tmp_path / "out"
    )
    error_line(result, tmp_path / "notes.mp4")
    assert not (tmp_path / "out" / "annotations.json").exists()
