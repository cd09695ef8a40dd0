import json
from pathlib import Path

import cv2
import numpy as np
from coco_files import coco_dataset, damage_two_images, write_coco

from ssdlite.data.browse import box_statistics, damaged_images
from ssdlite.data.coco import CocoDetection


def tiny_dataset(root, boxes: list[tuple[int, list[float], int]]) -> CocoDetection:
    """One grey 128x112 (w x h) image with the given (category_id, xywh, iscrowd) boxes."""
    (root / "images").mkdir()
    cv2.imwrite(str(root / "images" / "1.png"), np.full((112, 128, 3), 90, np.uint8))
    annotations = [
        {"id": i, "image_id": 1, "category_id": cid, "bbox": bbox, "area": bbox[2] * bbox[3], "iscrowd": crowd}
        for i, (cid, bbox, crowd) in enumerate(boxes, start=1)
    ]
    categories = [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 6, "name": "bus"}]
    path = root / "annotations.json"
    path.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "1.png", "width": 128, "height": 112}],
                "annotations": annotations,
                "categories": categories,
            }
        )
    )
    return coco_dataset(root / "images", path)


def test_size_shares_follow_the_coco_area_ranges(tmp_path):
    boxes = [
        (1, [0, 0, 10, 10], 0),  # area 100: small
        (1, [0, 0, 31, 33], 0),  # 1023: small
        (1, [0, 0, 32, 32], 0),  # 1024: medium
        (3, [0, 0, 96, 96], 0),  # 9216: large
        (3, [0, 0, 5, 5], 1),  # crowd: not counted
    ]
    table = box_statistics(tiny_dataset(tmp_path, boxes)).splitlines()
    start = table.index("COCO sizes by box area w*h: small < 1024 <= medium < 9216 <= large")
    assert [line.split() for line in table[start + 1 :]] == [
        ["class", "boxes", "small", "medium", "large"],
        ["all", "4", "50%", "25%", "25%"],
        ["person", "3", "67%", "33%", "0%"],
        ["car", "1", "0%", "0%", "100%"],
        ["bus", "0", "-", "-", "-"],
    ]


def test_damaged_images_lists_each_with_its_id_and_reason(tmp_path):
    path = write_coco(tmp_path, [], num_images=4)
    damage_two_images(path)
    (tmp_path / "images" / "4.png").write_bytes(b"")
    found = damaged_images(coco_dataset(tmp_path / "images", path), num_workers=0)
    assert [(image_id, Path(file).name) for image_id, file, _ in found] == [(1, "1.jpg"), (2, "2.png"), (4, "4.png")]
    assert found[0][2].startswith("damaged JPEG: image file is truncated") and "broken PNG file" in found[1][2]
    assert "cannot identify image file" in found[2][2]
