"""Label import: the same boxes exported as YOLO, Pascal VOC, CVAT and COCO by globox's writers give one COCO
file; bad input stops with the file and line; problems are reported per file."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from globox import Annotation, AnnotationSet, BoundingBox
from tool_process import error_line, run_tool

from ssdlite.footage.label_formats import LabelImportError, find_names, guess_format, read_labels
from ssdlite.footage.labels_import import labels_to_coco

CLASSES = ("person", "car")
SIZE = (100, 80)  # (width, height) of every image
# (image, [(class, x1, y1, x2, y2)]) in pixels; c.png has no boxes
BOXES = {"a.png": [("car", 10, 10, 40, 30), ("person", 50, 20, 70, 70)], "b.png": [("car", 0, 0, 20, 20)], "c.png": []}
EXPECTED = {
    "images": [{"id": i, "file_name": name, "width": 100, "height": 80} for i, name in enumerate(BOXES, start=1)],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 2, "bbox": [10.0, 10.0, 30.0, 20.0], "area": 600.0, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 1, "bbox": [50.0, 20.0, 20.0, 50.0], "area": 1000.0, "iscrowd": 0},
        {"id": 3, "image_id": 2, "category_id": 2, "bbox": [0.0, 0.0, 20.0, 20.0], "area": 400.0, "iscrowd": 0},
    ],
    "categories": [{"id": 1, "name": "person"}, {"id": 2, "name": "car"}],
}


@pytest.fixture
def exports(tmp_path) -> dict:
    """The images, and BOXES exported by globox in each format: {format: (labels path, names file or None)}."""
    images = tmp_path / "images"
    images.mkdir()
    for name in BOXES:
        cv2.imwrite(str(images / name), np.full((SIZE[1], SIZE[0], 3), 90, np.uint8))
    boxes = AnnotationSet(
        Annotation(name, SIZE, [BoundingBox.create(label=label, coords=coords) for label, *coords in objects])
        for name, objects in BOXES.items()
    )
    boxes.save_yolo_darknet(tmp_path / "yolo", label_to_id={"car": 0, "person": 1})
    (tmp_path / "data.yaml").write_text("names: [car, person]\n")  # YOLO's ids in the export's own order
    boxes.save_pascal_voc(tmp_path / "voc")
    boxes.save_cvat(tmp_path / "cvat.xml")
    boxes.save_coco(tmp_path / "coco.json", auto_ids=True)
    return {
        "images": images,
        "yolo": (tmp_path / "yolo", tmp_path / "data.yaml"),
        "voc": (tmp_path / "voc", None),
        "cvat": (tmp_path / "cvat.xml", None),
        "coco": (tmp_path / "coco.json", None),
    }


def imported(exports: dict, label_format: str, **options) -> tuple[dict, object]:
    labels, names = exports[label_format]
    labelled = read_labels(label_format, labels, images_dir=exports["images"], names=names)
    return labels_to_coco(labelled, classes=CLASSES, images_dir=exports["images"], **options)


@pytest.mark.parametrize("label_format", ["yolo", "voc", "cvat", "coco"])
def test_every_format_gives_the_same_coco_file(exports, label_format):
    coco, report = imported(exports, label_format)
    assert coco == EXPECTED
    assert report.unlabelled == ["c.png"] and report.per_file == {} and (report.num_images, report.num_boxes) == (3, 3)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_yolo_line_of_4_numbers_names_the_file_and_line(exports):
    txt = exports["yolo"][0] / "a.txt"
    txt.write_text(txt.read_text() + "\n1 0.5 0.5 0.2\n")
    with pytest.raises(
        LabelImportError, match=rf"^{txt}:3: expected 'class x_center y_center width height' \(5 numbers\), got 4"
    ):
        imported(exports, "yolo")


def test_a_yolo_class_id_past_the_names_is_named(exports):
    write(exports["yolo"][0] / "b.txt", "2 0.5 0.5 0.2 0.2\n")
    with pytest.raises(LabelImportError, match=rf"{exports['yolo'][0] / 'b.txt'}:1: class '2' is not an id of the 2 class names"):
        imported(exports, "yolo")


VOC_WITH_A_TRAM = """<annotation>
  <filename>a.png</filename>
  <size><width>100</width><height>80</height><depth>3</depth></size>
  <object>
    <name>car</name>
    <bndbox><xmin>10</xmin><ymin>10</ymin><xmax>40</xmax><ymax>30</ymax></bndbox>
  </object>
  <object>
    <name>tram</name>
    <bndbox><xmin>-5</xmin><ymin>10</ymin><xmax>60</xmax><ymax>30</ymax></bndbox>
  </object>
</annotation>
"""


def test_a_voc_class_not_in_the_config_names_the_file_line_and_fix(exports):
    xml = write(exports["voc"][0] / "a.xml", VOC_WITH_A_TRAM)
    with pytest.raises(LabelImportError) as error:
        imported(exports, "voc")
    message = str(error.value)
    assert message.startswith(f"{xml}:8: class 'tram' is not one of the config's classes ['person', 'car']")
    assert "add it to data.classes" in message and "--drop-unknown" in message


def test_dropped_classes_clipped_and_outside_boxes_are_reported_per_file(exports):
    write(exports["voc"][0] / "a.xml", VOC_WITH_A_TRAM.replace("<xmin>10</xmin>", "<xmin>-10</xmin>"))
    write(
        exports["voc"][0] / "b.xml",
        VOC_WITH_A_TRAM.replace("a.png", "b.png")
        .replace("tram", "car")
        .replace("<xmin>-5", "<xmin>200")
        .replace("<xmax>60", "<xmax>260"),
    )
    coco, report = imported(exports, "voc", drop_unknown=True)
    assert [a["bbox"] for a in coco["annotations"]] == [[0.0, 10.0, 40.0, 20.0], [10.0, 10.0, 30.0, 20.0]]
    assert report.per_file == {
        str(exports["voc"][0] / "a.xml"): {
            "boxes of class 'tram', not in the config, dropped": 1,
            "boxes reaching outside the image clipped to it": 1,
        },
        str(exports["voc"][0] / "b.xml"): {"boxes outside the image or under a pixel dropped": 1},
    }
    lines = report.lines(exports["images"])
    assert lines[0].startswith(f"{exports['voc'][0] / 'a.xml'}: 1 boxes of class 'tram'") and lines[-1].startswith(
        "1 images have no labels"
    )


CVAT_FOR_VIDEO = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <track id="0" label="car" source="manual">
    <box frame="0" outside="0" occluded="0" keyframe="1" xtl="10" ytl="10" xbr="40" ybr="30" z_order="0"/>
  </track>
</annotations>
"""
CVAT_POLYGONS = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <image id="0" name="a.png" width="100" height="80">
    <polygon label="car" source="manual" occluded="0" points="10,10;40,10;40,30" z_order="0"/>
  </image>
</annotations>
"""


@pytest.mark.parametrize(
    "text, line, what", [(CVAT_FOR_VIDEO, 4, "a 'CVAT for video' export"), (CVAT_POLYGONS, 4, "<polygon> shapes and no boxes")]
)
def test_a_cvat_xml_of_another_task_type_names_the_file_and_line(tmp_path, text, line, what):
    xml = write(tmp_path / "task.xml", text)
    with pytest.raises(LabelImportError, match=rf"^{xml}:{line}: {what}"):
        read_labels("cvat", xml, images_dir=tmp_path)


def test_label_studio_json_is_told_to_export_coco(tmp_path):
    tasks = write(tmp_path / "project.json", json.dumps([{"id": 1, "data": {"image": "a.png"}, "annotations": []}]))
    with pytest.raises(LabelImportError, match="Label Studio's own JSON .* export the project as COCO"):
        read_labels("coco", tasks, images_dir=tmp_path)


def test_images_are_found_by_bare_name_and_those_elsewhere_left_out_and_said(exports):
    labels, _ = exports["cvat"]
    text = labels.read_text().replace('name="a.png"', 'name="train/a.png"').replace('name="b.png"', 'name="val/b9.png"')
    labels.write_text(text.replace('name="c.png"', 'name="/data/upload/3/0f3e9a1c-c.png"'))  # as Label Studio names it
    coco, report = imported(exports, "cvat")
    assert [image["file_name"] for image in coco["images"]] == ["a.png", "c.png"]
    assert report.not_found == ["val/b9.png"]
    with pytest.raises(LabelImportError, match=f"none of the 3 labelled images is under {exports['voc'][0]}"):
        labels_to_coco(read_labels("cvat", labels, images_dir=exports["images"]), classes=CLASSES, images_dir=exports["voc"][0])


def test_the_format_is_told_by_the_export_and_yolo_names_found_beside_it(exports, tmp_path):
    assert [guess_format(exports[f][0]) for f in ("yolo", "voc", "cvat", "coco")] == ["yolo", "voc", "cvat", "coco"]
    assert find_names(exports["yolo"][0]) == tmp_path / "data.yaml"  # the folder above the labels
    (tmp_path / "images" / "deeper").mkdir()
    (tmp_path / "notes").mkdir()
    with pytest.raises(LabelImportError, match="cannot tell its format .* give --format"):
        guess_format(tmp_path / "notes")
    with pytest.raises(LabelImportError, match="no data.yaml, classes.txt or obj.names here or above; give --names"):
        find_names(tmp_path / "images" / "deeper")  # data.yaml is two folders up


@pytest.mark.slow  # a Python that imports torch
def test_the_tool_writes_the_coco_file_and_bad_input_writes_nothing(exports, tmp_path):
    labels, _ = exports["yolo"]
    command = ["tools/import_labels.py", labels, "--images", exports["images"]]
    command += ["--classes", "person", "car", "--out", tmp_path / "train.json"]
    result = run_tool(*command)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "train.json").read_text()) == EXPECTED and "1 images have no labels" in result.stderr
    write(labels / "b.txt", "0 0.5 0.5 0.2\n")
    command[-1] = tmp_path / "again.json"
    error_line(run_tool(*command), f"{labels / 'b.txt'}:1", "5 numbers", "got 4")
    assert not (tmp_path / "again.json").exists() and not list(tmp_path.glob(".again.json*"))
