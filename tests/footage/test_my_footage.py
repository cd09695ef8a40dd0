"""configs/my_footage.py: the template every data-taking tool accepts, from extracted frames and imported labels."""

from pathlib import Path

import numpy as np
import pytest
from globox import Annotation, AnnotationSet, BoundingBox
from tool_process import error_line, run_tool

from ssdlite.config import apply_overrides, load_config
from ssdlite.data.build import build_dataset
from ssdlite.data.converters import write_json
from ssdlite.data.synthetic_drawing import CATEGORIES
from ssdlite.data.synthetic_video import moving_scene
from ssdlite.footage.frames import Sampling, extract_frames
from ssdlite.footage.label_formats import read_labels
from ssdlite.footage.labels_import import labels_to_coco
from ssdlite.inference.inputs import resolve_source
from ssdlite.inference.quantize import calibration_images
from ssdlite.video import open_video_writer

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "configs/my_footage.py"
NAMES = {category["id"]: category["name"] for category in CATEGORIES}


def test_the_template_names_the_four_data_paths_and_the_classes_on_the_cpu_recipe():
    config, recipe = load_config(TEMPLATE), load_config(REPO / "configs/driving_ssdlite_cpu.py")
    assert config.model == recipe.model and config.train == recipe.train and config.trainer == recipe.trainer
    data = config.data
    assert (data.train_images, data.train_annotations, data.val_images, data.val_annotations) == (
        "footage/train", "footage/train.json", "footage/val", "footage/val.json",
    )  # fmt: skip
    assert data.classes == ("person", "bicycle", "car", "motorcycle", "bus", "truck")


def write_drive(path: Path, seed: int) -> dict[int, list]:
    """A short clip of the built-in road and its boxes per frame: {frame: [(class name, x1, y1, x2, y2)]}."""
    writer = open_video_writer(path, 10, (320, 180))
    boxes = {}
    for frame, (image, objects) in enumerate(moving_scene(seed, image_size=(180, 320), scene="close", num_frames=6, fps=10)):
        writer.write(image)
        boxes[frame] = [(NAMES[category], x, y, x + w, y + h) for _, category, (x, y, w, h), _ in objects]
    writer.release()
    return boxes


def test_frames_and_imported_labels_are_what_the_config_trains_and_calibrates_on(tmp_path):
    truth = {stem: write_drive(tmp_path / "cam" / f"{stem}.mp4", seed) for seed, stem in enumerate(("0001", "0002"))}
    footage = tmp_path / "footage"
    extract_frames(resolve_source(tmp_path / "cam"), footage, Sampling(min_difference=0), val_fraction=0.5)
    # the frames labelled in a tool (here: their true boxes, written by globox's CVAT writer), imported per split
    labels = AnnotationSet(
        Annotation(f"{stem}_{frame:06d}.jpg", (320, 180), [BoundingBox.create(label=name, coords=box) for name, *box in objects])
        for stem, frames in truth.items()
        for frame, objects in frames.items()
    )
    labels.save_cvat(tmp_path / "export.xml")
    overrides = []
    for split in ("train", "val"):
        labelled = read_labels("cvat", tmp_path / "export.xml", images_dir=footage / split)
        coco, report = labels_to_coco(labelled, classes=load_config(TEMPLATE).data.classes, images_dir=footage / split)
        assert report.num_images == 6 and len(report.not_found) == 6  # the other video's frames are the other split's
        write_json(coco, footage / f"{split}.json")
        overrides += [f"data.{split}_images={footage / split}", f"data.{split}_annotations={footage / split}.json"]
    config = apply_overrides(load_config(TEMPLATE), [*overrides, "data.num_workers=0"])
    assert calibration_images(config, 3).shape == (3, 3, 224, 384)
    val_set = build_dataset(config.data, "val", config.model.image_size)
    num_boxes = sum(len(objects) for objects in truth["0002"].values())
    assert len(val_set) == 6 and sum(len(record.boxes) for record in val_set.records) == num_boxes > 0
    assert np.allclose(val_set.records[0].boxes, [box[1:] for box in truth["0002"][0]], atol=0.01)


@pytest.mark.slow  # Pythons that import torch
@pytest.mark.parametrize(
    "command",
    [
        ["tools/train.py", str(TEMPLATE)],
        ["tools/export.py", "--checkpoint", "missing.ckpt", "--int8", "--calibration", str(TEMPLATE)],
        ["tools/benchmark.py", "missing.ckpt", "--data", str(TEMPLATE)],
        ["benchmarks/benchmark.py", "--deploy", "missing.ckpt", "--data", str(TEMPLATE)],
        ["tools/import_labels.py", "missing.json", "--images", ".", "--out", "x.json", "--config", str(TEMPLATE)],
    ],
)
def test_the_tools_that_take_data_take_the_template_and_set(command):
    error_line(run_tool(*command, "--set", "data.train_imgs=frames"), "data.train_imgs", "data.train_images")
