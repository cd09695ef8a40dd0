import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from ssdlite.data.converters import ConversionError, bdd100k_to_coco, kitti_to_coco

REPO = Path(__file__).resolve().parents[2]

BDD_FRAMES = [
    {
        "name": "b1c66a42-6f7d68ca.jpg",
        "attributes": {"weather": "overcast", "scene": "city street", "timeofday": "daytime"},
        "timestamp": 10000,
        "labels": [
            {
                "id": 0,
                "category": "car",
                "attributes": {"occluded": False, "truncated": False},
                "box2d": {"x1": 45.2, "y1": 254.5, "x2": 357.8, "y2": 487.9},
            },
            {
                "id": 1,
                "category": "rider",
                "attributes": {"occluded": True, "truncated": False},
                "box2d": {"x1": 600.0, "y1": 300.0, "x2": 640.0, "y2": 400.0},
            },
            {"id": 2, "category": "traffic sign", "box2d": {"x1": 10.0, "y1": 10.0, "x2": 20.0, "y2": 20.0}},
            {"id": 3, "category": "lane", "poly2d": [{"vertices": [[0, 0], [5, 5]], "types": "LL", "closed": False}]},
        ],
    },
    {"name": "b1c81faa-3df17267.jpg", "attributes": {}, "timestamp": 10000, "labels": [
        {"id": 4, "category": "motor", "box2d": {"x1": 100.0, "y1": 200.0, "x2": 150.0, "y2": 260.0}},
    ]},
]  # fmt: skip


def test_bdd100k(tmp_path, caplog):
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(BDD_FRAMES))
    with caplog.at_level(logging.WARNING):
        coco = bdd100k_to_coco(path)
    assert [img["height"] for img in coco["images"]] == [720, 720]
    boxes = [(a["image_id"], a["category_id"], a["bbox"]) for a in coco["annotations"]]
    assert boxes[0][:2] == (1, 3) and boxes[0][2] == pytest.approx([45.2, 254.5, 312.6, 233.4])
    assert boxes[1] == (1, 1, [600.0, 300.0, 40.0, 100.0])  # rider -> person
    assert boxes[2] == (2, 4, [100.0, 200.0, 50.0, 60.0])  # motor -> motorcycle
    assert "dropped 1 objects" in caplog.text and "traffic sign" in caplog.text
    out = tmp_path / "coco.json"
    out.write_text(json.dumps(coco))
    assert len(COCO(str(out)).anns) == 3


def test_bdd100k_bad_box_names_the_record(tmp_path):
    frames = [{"name": "x.jpg", "labels": [{"id": 7, "category": "car", "box2d": {"x1": 1.0, "y1": 2.0}}]}]
    (tmp_path / "labels.json").write_text(json.dumps(frames))
    with pytest.raises(ConversionError, match="frame x.jpg, label 7"):
        bdd100k_to_coco(tmp_path / "labels.json")


def write_kitti(root: Path, lines_per_image: dict[str, list[str]]) -> tuple[Path, Path]:
    (root / "label_2").mkdir(parents=True)
    (root / "image_2").mkdir()
    for stem, lines in lines_per_image.items():
        (root / "label_2" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
        Image.fromarray(np.zeros((375, 1242, 3), np.uint8)).save(root / "image_2" / f"{stem}.png")
    return root / "label_2", root / "image_2"


KITTI = {
    "000000": ["Pedestrian 0.00 0 -0.20 712.40 143.00 810.73 307.92 1.89 0.48 1.20 1.84 1.47 8.41 0.01"],
    "000001": [
        "Car 0.00 0 1.85 387.63 181.54 423.81 203.12 1.67 1.87 3.69 -16.53 2.39 58.49 1.57",
        "Tram 0.00 0 -1.56 564.62 174.59 616.43 224.74 3.20 1.61 10.13 -0.69 1.69 25.01 -1.59",
        "DontCare -1 -1 -10 800.38 163.67 825.45 184.07 -1 -1 -1 -1000 -1000 -1000 -10",
        "Cyclist 0.00 0 1.94 330.60 176.09 355.61 213.60 1.72 0.50 1.95 -12.63 1.88 34.09 1.54",
    ],
}


def test_kitti(tmp_path):
    labels, images = write_kitti(tmp_path, KITTI)
    coco = kitti_to_coco(labels, images, class_map={"Pedestrian": "person", "Car": "car", "Cyclist": "bicycle"})
    assert coco["images"][0] == {"id": 1, "file_name": "000000.png", "height": 375, "width": 1242}
    rows = [(a["image_id"], a["category_id"], a["iscrowd"]) for a in coco["annotations"]]
    assert rows == [(1, 1, 0), (2, 3, 0), (2, 3, 1), (2, 2, 0)]  # Tram dropped; DontCare a crowd region
    assert coco["annotations"][0]["bbox"] == pytest.approx([712.40, 143.00, 98.33, 164.92])


def test_kitti_errors_name_file_and_line(tmp_path):
    labels, images = write_kitti(tmp_path, {"000000": ["Car 0.0 0 1.0 1 2 3"]})
    with pytest.raises(ConversionError, match=r"000000.txt:1: expected 15 fields"):
        kitti_to_coco(labels, images)
    (labels / "000009.txt").write_text("")
    with pytest.raises(ConversionError, match=r"1 label files have no image.*000009"):
        kitti_to_coco(labels, images)


def test_kitti_tool_writes_loadable_coco(tmp_path):
    labels, images = write_kitti(tmp_path, KITTI)
    out = tmp_path / "kitti.json"
    result = subprocess.run(
        [sys.executable, "tools/convert/kitti_to_coco.py", "--labels", str(labels), "--images", str(images), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert len(COCO(str(out)).anns) == 5
