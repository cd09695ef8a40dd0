import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO
from tool_process import error_line, run_tool

from ssdlite.data.converters import (
    BDD100K_FLAGS,
    BDD100K_TO_COCO,
    ConversionError,
    bdd100k_to_coco,
    kitti_to_coco,
    write_json,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bdd100k"

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
BOX = {"x1": 1.0, "y1": 2.0, "x2": 3.0, "y2": 4.0}


def test_bdd100k(tmp_path, caplog):
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(BDD_FRAMES))
    with caplog.at_level(logging.WARNING):
        coco = bdd100k_to_coco(path)
    assert [img["height"] for img in coco["images"]] == [720, 720]
    boxes = [(a["image_id"], a["category_id"], a["bbox"]) for a in coco["annotations"]]
    # Corners are inclusive pixels, as in the official toolkit: width x2 - x1 + 1.
    assert boxes[0][:2] == (1, 3) and boxes[0][2] == pytest.approx([45.2, 254.5, 313.6, 234.4])
    assert boxes[1] == (1, 1, [600.0, 300.0, 41.0, 101.0])  # rider -> person
    assert boxes[2] == (2, 4, [100.0, 200.0, 51.0, 61.0])  # motor -> motorcycle
    assert coco["annotations"][1]["area"] == 41.0 * 101.0
    assert "dropped 1 objects" in caplog.text and "traffic sign" in caplog.text
    out = tmp_path / "coco.json"
    out.write_text(json.dumps(coco))
    assert len(COCO(str(out)).anns) == 3


def test_bdd100k_exclusive_corners(tmp_path):
    (tmp_path / "labels.json").write_text(json.dumps(BDD_FRAMES))
    coco = bdd100k_to_coco(tmp_path / "labels.json", box_convention="exclusive")
    assert [a["bbox"] for a in coco["annotations"]][1:] == [[600.0, 300.0, 40.0, 100.0], [100.0, 200.0, 50.0, 60.0]]


def test_bdd100k_crowd_ignored_and_ignored_categories(tmp_path):
    labels = [
        {"id": 0, "category": "pedestrian", "attributes": {"crowd": True}, "box2d": {"x1": 0, "y1": 0, "x2": 9, "y2": 9}},
        {"id": 1, "category": "car", "attributes": {"ignored": True}, "box2d": {"x1": 0, "y1": 0, "x2": 9, "y2": 9}},
        {"id": 2, "category": "trailer", "attributes": {"crowd": False}, "box2d": {"x1": 0, "y1": 0, "x2": 9, "y2": 9}},
        {
            "id": 3,
            "category": "car",
            "attributes": {"crowd": False, "ignored": False},
            "box2d": {"x1": 0, "y1": 0, "x2": 9, "y2": 9},
        },
    ]
    (tmp_path / "labels.json").write_text(json.dumps([{"name": "a.jpg", "labels": labels}, {"name": "b.jpg", "labels": None}]))
    coco = bdd100k_to_coco(tmp_path / "labels.json")
    assert [(a["category_id"], a["iscrowd"]) for a in coco["annotations"]] == [(1, 1), (3, 1), (8, 1), (3, 0)]
    assert [img["file_name"] for img in coco["images"]] == ["a.jpg", "b.jpg"]  # labels: null is still an image


def test_bdd100k_matches_the_official_toolkit(caplog):
    """labels.json (60 frames, 2018 and det_20 naming) against bdd100k 1.0.1's own COCO output for it."""
    frames = json.loads((FIXTURES / "labels.json").read_text())
    official = json.loads((FIXTURES / "official_coco.json").read_text())
    labels = [label for frame in frames for label in frame.get("labels") or []]
    assert len(frames) >= 50 and {label["category"] for label in labels} >= set(BDD100K_TO_COCO) | {"traffic sign", "lane"}
    flags = {(key, value) for label in labels for key, value in label.get("attributes", {}).items() if key in BDD100K_FLAGS}
    assert flags == {(flag, value) for flag in BDD100K_FLAGS for value in (True, False)}
    assert any(frame.get("labels", 0) is None for frame in frames)
    with caplog.at_level(logging.WARNING):
        ours = bdd100k_to_coco(FIXTURES / "labels.json")
    keys = ("id", "file_name", "height", "width")
    assert [{k: img[k] for k in keys} for img in ours["images"]] == [{k: img[k] for k in keys} for img in official["images"]]
    official_names = {c["id"]: c["name"] for c in official["categories"]}
    our_names = {c["id"]: c["name"] for c in ours["categories"]}
    expected = [a | {"name": official_names[a["category_id"]]} for a in official["annotations"]]
    kept = [a for a in expected if a["name"] in BDD100K_TO_COCO]
    assert [(a["image_id"], BDD100K_TO_COCO[a["name"]], a["iscrowd"]) for a in kept] == [
        (a["image_id"], our_names[a["category_id"]], a["iscrowd"]) for a in ours["annotations"]
    ]
    assert {a["iscrowd"] for a in ours["annotations"]} == {0, 1}
    for theirs, mine in zip(kept, ours["annotations"]):
        assert mine["bbox"] == pytest.approx(theirs["bbox"], abs=1e-6) and mine["area"] == pytest.approx(theirs["area"])
    signs = len(expected) - len(kept)
    assert signs > 0 and f"dropped {signs} objects of classes outside the mapping: {{'traffic sign': {signs}}}" in caplog.text


@pytest.mark.parametrize(
    "frames, message",
    [
        ([{"name": "a.jpg", "labels": []}, {"labels": []}], r"labels.json: frame 1 \(counting from 0\) has no 'name'; give it"),
        (
            [{"name": "x.jpg", "labels": [{"id": 7, "category": "car", "box2d": {"x1": 1.0, "y1": 2.0}}]}],
            r"frame x.jpg, label 7: bad box2d .* it needs numbers x1, y1, x2, y2",
        ),
        (
            [{"name": "x.jpg", "labels": [{"id": 8, "category": "car", "box2d": {"x1": 9, "y1": 2, "x2": 3, "y2": 5}}]}],
            r"frame x.jpg, label 8: box corners \(9.0, 2.0\) to \(3.0, 5.0\) have x2 < x1 .*swap them or delete",
        ),
        (
            [{"name": "x.jpg", "labels": [{"id": 9, "category": "car", "attributes": {"crowd": "yes"}, "box2d": BOX}]}],
            r"frame x.jpg, label 9: attribute 'crowd' is 'yes'; set it to true or false",
        ),
    ],
)
def test_bdd100k_bad_input_names_file_record_and_fix(tmp_path, frames, message):
    (tmp_path / "labels.json").write_text(json.dumps(frames))
    with pytest.raises(ConversionError, match=message):
        bdd100k_to_coco(tmp_path / "labels.json")


def test_bdd100k_tool_writes_no_file_on_bad_input(tmp_path):
    frames = [{"name": "x.jpg", "labels": [{"id": 8, "category": "car", "box2d": {"x1": 9, "y1": 2, "x2": 3, "y2": 5}}]}]
    (tmp_path / "labels.json").write_text(json.dumps(frames))
    out = tmp_path / "coco.json"
    error_line(run_tool("tools/convert/bdd100k_to_coco.py", tmp_path / "labels.json", "--out", out), "label 8", "box")
    assert list(tmp_path.iterdir()) == [tmp_path / "labels.json"]  # nothing half-written
    result = run_tool("tools/convert/bdd100k_to_coco.py", FIXTURES / "labels.json", "--out", out)
    assert result.returncode == 0 and len(COCO(str(out)).imgs) == 60


def test_write_json_keeps_the_old_file_when_writing_fails(tmp_path):
    out = tmp_path / "coco.json"
    write_json({"images": []}, out)
    with pytest.raises(TypeError):
        write_json({"images": [object()]}, out)
    assert json.loads(out.read_text()) == {"images": []} and list(tmp_path.iterdir()) == [out]


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


@pytest.mark.parametrize(
    "line, message",
    [
        (
            "Car 0.0 0 1.0 1 2 3",
            r"000000.txt:2: expected 15 fields \(type truncated .* rotation_y\), got 7: .*fix or delete the line",
        ),
        (KITTI["000000"][0] + " 0.93", r"000000.txt:2: expected 15 fields .*, got 16"),
        ("Car 0.00 0 1.85 423.81 181.54 387.63 203.12 1.67 1.87 3.69 -16.53 2.39 58.49 1.57", r"000000.txt:2: box corners"),
        ("Car x 0 1.85 387.63 181.54 423.81 203.12 1.67 1.87 3.69 -16.53 2.39 58.49 1.57", r"000000.txt:2: .* must be numbers"),
    ],
)
def test_kitti_bad_lines_name_file_line_and_fix(tmp_path, line, message):
    labels, images = write_kitti(tmp_path, {"000000": [KITTI["000000"][0], line]})
    with pytest.raises(ConversionError, match=message):
        kitti_to_coco(labels, images)


def test_kitti_label_file_without_image(tmp_path):
    labels, images = write_kitti(tmp_path, {"000000": KITTI["000000"]})
    (labels / "000009.txt").write_text("")
    with pytest.raises(ConversionError, match=r"1 label files have no image.*000009"):
        kitti_to_coco(labels, images)


def test_kitti_difficulty_makes_harder_objects_crowd_regions(tmp_path):
    lines = [  # truncated occluded ... top ... bottom: heights 50, 30, 30, 30, 20 px
        "Car 0.00 0 0 100 100 200 150 1 1 1 1 1 1 1",  # easy
        "Car 0.10 1 0 100 100 200 130 1 1 1 1 1 1 1",  # moderate: 30 px, partly occluded
        "Car 0.40 2 0 100 100 200 130 1 1 1 1 1 1 1",  # hard: largely occluded, 40 % truncated
        "Car 0.60 0 0 100 100 200 130 1 1 1 1 1 1 1",  # beyond hard: 60 % truncated
        "Car 0.00 0 0 100 100 200 120 1 1 1 1 1 1 1",  # beyond hard: 20 px
    ]
    labels, images = write_kitti(tmp_path, {"000000": lines})
    crowd = {
        level: [a["iscrowd"] for a in kitti_to_coco(labels, images, difficulty=level)["annotations"]]
        for level in (None, "easy", "moderate", "hard")
    }
    assert crowd == {None: [0, 0, 0, 0, 0], "easy": [0, 1, 1, 1, 1], "moderate": [0, 0, 1, 1, 1], "hard": [0, 0, 0, 1, 1]}


def test_kitti_tool_writes_loadable_coco(tmp_path):
    labels, images = write_kitti(tmp_path, KITTI)
    out = tmp_path / "kitti.json"
    kitti_to_coco_tool = ("tools/convert/kitti_to_coco.py", "--labels", labels, "--images", images, "--out", out)
    result = run_tool(*kitti_to_coco_tool, "--difficulty", "easy")
    assert result.returncode == 0, result.stderr
    assert len(COCO(str(out)).anns) == 5
    (labels / "000001.txt").write_text("Car 0.0 0 1.0 1 2 3\n")
    out.unlink()
    error_line(run_tool(*kitti_to_coco_tool), "000001.txt:1", "15 fields")  # the file and line, and what a KITTI line holds
    assert not out.exists() and not list(tmp_path.glob(".kitti.json*"))
