import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from coco_files import ann, coco_dataset, damage_two_images, write_coco
from PIL import Image
from torch.utils.data import DataLoader

from ssdlite.config import DataConfig, load_config
from ssdlite.data.batch import collate
from ssdlite.data.build import DataNotFoundError, build_dataset
from ssdlite.data.coco import CocoDetection, DatasetError
from ssdlite.data.converters import BDD100K_TO_COCO
from ssdlite.evaluation import CocoEvaluator

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def dataset(root: Path, annotations: list[dict], num_images: int = 3, **kwargs) -> CocoDetection:
    return coco_dataset(root / "images", write_coco(root, annotations, num_images), **kwargs)


def test_gapped_ids_map_to_contiguous_labels_and_back(tmp_path):
    ds = dataset(tmp_path, [ann(1, 1, 90, [10, 10, 20, 20]), ann(2, 1, 3, [30, 30, 10, 10]), ann(3, 2, 7, [0, 0, 5, 5])])
    assert ds.class_names == ("person", "car", "train", "toothbrush")
    assert ds.label_to_category_id == {1: 1, 2: 3, 3: 7, 4: 90}
    assert all(ds.category_id_to_label[cid] == label for label, cid in ds.label_to_category_id.items())
    _, target = ds[0]
    assert target["labels"].tolist() == [4, 2]
    assert target["boxes"].tolist() == [[10, 10, 30, 30], [30, 30, 40, 40]]
    assert target["image_id"] == 1 and target["orig_size"] == (80, 100)


def test_subset_by_name_drops_other_classes(tmp_path):
    annotations = [ann(1, 1, 90, [10, 10, 20, 20]), ann(2, 1, 3, [30, 30, 10, 10]), ann(3, 2, 1, [0, 0, 5, 5])]
    ds = dataset(tmp_path, annotations, classes=("car", "person"))
    assert ds.label_to_category_id == {1: 3, 2: 1}
    assert ds[0][1]["labels"].tolist() == [1]
    assert ds[1][1]["labels"].tolist() == [2]
    assert len(ds) == 3  # image 3 has nothing and stays as background
    assert len(dataset(tmp_path, annotations, classes=("car", "person"), keep_empty_images=False)) == 2


def test_unknown_class_name_lists_the_available_ones(tmp_path):
    with pytest.raises(DatasetError, match=r"\['truck'\] are not in .*'person', 'car'"):
        dataset(tmp_path, [], classes=("car", "truck"))


def test_crowd_regions_are_passed_on(tmp_path):
    ds = dataset(tmp_path, [ann(1, 1, 1, [10, 10, 20, 20], iscrowd=1), ann(2, 1, 1, [50, 10, 20, 20])])
    assert ds[0][1]["iscrowd"].tolist() == [True, False]


def test_every_problem_reported_at_once(tmp_path):
    annotations = [ann(1, 1, 5, [0, 0, 5, 5]), ann(1, 2, 1, [0, 0, 5, 5]), ann(3, 9, 1, [0, 0, 5, 5])]
    path = write_coco(tmp_path, annotations)
    data = json.loads(path.read_text())
    data["images"].append({"id": 2, "file_name": "2.png", "width": 100, "height": 80})  # duplicate id
    data["images"].append({"id": 4, "file_name": "missing.png", "width": 100, "height": 80})
    path.write_text(json.dumps(data))
    with pytest.raises(DatasetError) as error:
        coco_dataset(tmp_path / "images", path)
    message = str(error.value)
    assert str(path) in message and "5 kinds of problem" in message
    assert "1 duplicate image ids, e.g. [2]" in message
    assert "1 duplicate annotation ids, e.g. [1]" in message
    assert "annotation 1 -> category 5" in message
    assert "annotations of images not listed, e.g. annotation ids [3]" in message
    assert "1 images missing under" in message and "missing.png" in message


def test_an_annotation_file_that_is_not_json_names_the_file(tmp_path):
    path = write_coco(tmp_path, [])
    path.write_text("{'images': [")  # Python, not JSON
    with pytest.raises(DatasetError, match=f"{path} cannot be read as JSON .*line 1 column 2"):
        coco_dataset(tmp_path / "images", path)
    path.write_text("[]")
    with pytest.raises(DatasetError, match=f"{path} holds a JSON list"):
        coco_dataset(tmp_path / "images", path)
    with pytest.raises(DatasetError, match=f"{tmp_path / 'images'} cannot be read as JSON"):  # a folder
        coco_dataset(tmp_path / "images", tmp_path / "images")


def test_a_record_without_a_needed_key_is_named(tmp_path):
    path = write_coco(tmp_path, [ann(1, 1, 1, [0, 0, 5, 5]), {"id": 2, "image_id": 1, "bbox": [0, 0, 5, 5]}])
    with pytest.raises(
        DatasetError,
        match=r"annotations\[1\] has no category_id; every entry of annotations needs id, image_id, category_id, bbox",
    ):
        coco_dataset(tmp_path / "images", path)


def test_degenerate_boxes_dropped_and_border_boxes_clipped(tmp_path, caplog):
    annotations = [
        ann(1, 1, 1, [10, 10, 0, 5]),  # zero width
        ann(2, 1, 1, [10, 10, float("nan"), 5]),
        ann(3, 1, 1, [90, 70, 30, 30]),  # crosses the right and bottom border
        ann(4, 1, 1, [200, 10, 5, 5]),  # wholly outside
    ]
    with caplog.at_level(logging.WARNING):
        ds = dataset(tmp_path, annotations)
    assert ds[0][1]["boxes"].tolist() == [[90, 70, 100, 80]]
    assert "dropped 3 degenerate boxes" in caplog.text and "clipped 1 boxes" in caplog.text


def test_corrupt_image_is_skipped_with_a_warning(tmp_path, caplog):
    ds = dataset(tmp_path, [ann(1, 2, 1, [10, 10, 20, 20])], num_images=3, max_bad_image_fraction=0.5)
    (tmp_path / "images" / "1.png").write_bytes(b"not a png")
    with caplog.at_level(logging.WARNING):
        image, target = ds[0]
    assert target["image_id"] == 2 and image.shape == (3, 80, 100)
    assert "skipping unreadable image" in caplog.text and "1.png" in caplog.text


def test_too_many_unreadable_images_stop_loading(tmp_path):
    ds = dataset(tmp_path, [], num_images=3, max_bad_image_fraction=0.0)
    for name in ("1.png", "2.png"):
        (tmp_path / "images" / name).write_bytes(b"")
    with pytest.raises(DatasetError, match="2 unreadable images .*raise data.max_bad_image_fraction"):
        ds[0]


def test_healthy_images_give_the_tensors_cv2_imread_gives(tmp_path):
    path = write_coco(tmp_path, [], num_images=2)
    noise = np.random.default_rng(0).integers(0, 256, (80, 100, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "images" / "1.png"), noise)
    (tmp_path / "images" / "2.png").write_bytes(cv2.imencode(".jpg", noise)[1].tobytes())  # JPEG data, read by content
    ds = coco_dataset(tmp_path / "images", path)
    for index, name in enumerate(("1.png", "2.png")):
        bgr = cv2.imread(str(tmp_path / "images" / name), cv2.IMREAD_COLOR)
        expected = torch.from_numpy(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).permute(2, 0, 1)
        assert torch.equal(ds[index][0], expected)


def test_a_truncated_jpeg_and_a_broken_png_are_skipped_named_and_counted(tmp_path, caplog):
    path = write_coco(tmp_path, [ann(1, 3, 1, [10, 10, 20, 20])], num_images=4)
    damage_two_images(path)
    ds = coco_dataset(tmp_path / "images", path, max_bad_image_fraction=0.5)
    with caplog.at_level(logging.WARNING):
        served = [ds[index][1]["image_id"] for index in range(len(ds))]
    assert served == [3, 3, 3, 4]  # each damaged image replaced by the next readable one
    images = tmp_path / "images"
    assert f"skipping unreadable image {images / '1.jpg'} (image id 1): damaged JPEG: image file is truncated" in caplog.text
    assert f"skipping unreadable image {images / '2.png'} (image id 2): broken PNG file" in caplog.text
    strict = coco_dataset(tmp_path / "images", path, max_bad_image_fraction=0.25)  # one image of four
    with pytest.raises(DatasetError, match=r"2 unreadable images .*1\.jpg.*2\.png.*raise data.max_bad_image_fraction"):
        strict[0]


def test_build_dataset_names_missing_files(tmp_path):
    cfg = DataConfig(val_images=str(tmp_path / "val"), val_annotations=str(tmp_path / "val.json"))
    with pytest.raises(DataNotFoundError, match=r"val\.json.*cocodataset\.org") as error:
        build_dataset(cfg, "val", (300, 300))
    assert isinstance(error.value, DatasetError) and isinstance(error.value, FileNotFoundError)


def test_loader_with_workers_batches_images_and_targets(tmp_path):
    path = write_coco(tmp_path, [ann(1, 1, 3, [10, 10, 20, 20]), ann(2, 3, 1, [0, 0, 50, 40])], num_images=4)
    cfg = DataConfig(train_images=str(tmp_path / "images"), train_annotations=str(path))
    ds = build_dataset(cfg, "train", (64, 96))
    images, targets = next(iter(DataLoader(ds, batch_size=4, num_workers=2, collate_fn=collate)))
    assert images.shape == (4, 3, 64, 96) and images.dtype == torch.float32
    assert -1.0 <= images.min() and images.max() <= 1.0
    assert [t["image_id"] for t in targets] == [1, 2, 3, 4]
    assert targets[1]["boxes"].shape == (0, 4) and targets[1]["labels"].dtype == torch.int64


BDD100K_NAMES = ("pedestrian", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle", "traffic light", "traffic sign")


def write_bdd100k_coco(root: Path) -> Path:
    """A small file as BDD100K distributes det_val_coco.json: ids 1..10, `ignore`, `scalabel_id`, image attributes."""
    (root / "images").mkdir(parents=True)
    images = []
    for image_id, name in enumerate(("b1c66a42-6f7d68ca.jpg", "b1c81faa-3df17267.jpg"), start=1):
        Image.new("RGB", (128, 72), (90, 90, 90)).save(root / "images" / name)
        images.append({"file_name": name, "height": 72, "width": 128, "id": image_id, "attributes": {"weather": "clear"}})
    boxes = [  # (image, category, bbox, iscrowd, ignore)
        (1, 1, [10.0, 20.0, 6.0, 12.0], 0, 0),  # pedestrian
        (1, 2, [30.0, 20.0, 6.0, 12.0], 0, 0),  # rider
        (1, 3, [50.0, 30.0, 40.0, 20.0], 0, 0),  # car
        (1, 3, [95.0, 30.0, 20.0, 10.0], 0, 1),  # car, ignored
        (2, 10, [5.0, 5.0, 8.0, 8.0], 0, 0),  # traffic sign
        (2, 1, [60.0, 10.0, 30.0, 40.0], 1, 0),  # a crowd of pedestrians
    ]
    annotations = [
        {"id": i, "image_id": image, "category_id": category, "scalabel_id": str(i), "iscrowd": crowd, "ignore": ignore}
        | {"bbox": bbox, "area": bbox[2] * bbox[3]}
        for i, (image, category, bbox, crowd, ignore) in enumerate(boxes, start=1)
    ]
    categories = [{"id": i, "name": name} for i, name in enumerate(BDD100K_NAMES, start=1)]
    path = root / "det_val_coco.json"
    path.write_text(json.dumps({"type": "instance", "categories": categories, "images": images, "annotations": annotations}))
    return path


def test_bdd100k_coco_file_trains_with_its_own_category_names(tmp_path):
    ds = coco_dataset(tmp_path / "images", write_bdd100k_coco(tmp_path), classes=("pedestrian", "car", "traffic sign"))
    assert ds.label_to_category_id == {1: 1, 2: 3, 3: 10}
    first, second = ds[0][1], ds[1][1]
    assert first["labels"].tolist() == [1, 2, 2] and first["iscrowd"].tolist() == [False, False, True]  # ignore: 1
    assert second["labels"].tolist() == [3, 1] and second["iscrowd"].tolist() == [False, True]


def test_category_map_merges_bdd100k_categories_onto_coco_names(tmp_path):
    annotations = write_bdd100k_coco(tmp_path)
    ds = coco_dataset(tmp_path / "images", annotations, category_map=BDD100K_TO_COCO)
    assert ds.class_names == ("person", "car", "truck", "bus", "train", "motorcycle", "bicycle", "traffic light")
    assert ds.label_to_category_id[1] == 1  # person keeps pedestrian's id, the smallest merged
    assert ds[0][1]["labels"].tolist() == [1, 1, 2, 2]  # pedestrian, rider -> person
    assert ds[1][1]["labels"].tolist() == [1]  # the traffic sign is dropped
    cars = coco_dataset(tmp_path / "images", annotations, category_map=BDD100K_TO_COCO, classes=("car",))
    assert cars[0][1]["labels"].tolist() == [1, 1]


def test_bdd100k_ignored_boxes_are_neither_missed_nor_false_positives(tmp_path):
    ds = coco_dataset(tmp_path / "images", write_bdd100k_coco(tmp_path), classes=("pedestrian", "car"))
    evaluator = CocoEvaluator.for_dataset(ds)
    found = torch.tensor([[10.0, 20.0, 16.0, 32.0], [50.0, 30.0, 90.0, 50.0]])  # not the ignored car
    evaluator.update([{"boxes": found, "scores": torch.tensor([0.9, 0.9]), "labels": torch.tensor([1, 2])}], [1])
    on_crowd = torch.tensor([[60.0, 10.0, 90.0, 50.0]])
    evaluator.update([{"boxes": on_crowd, "scores": torch.ones(1), "labels": torch.tensor([1])}], [2])
    assert evaluator.compute().metrics["AP"] == pytest.approx(100.0)


def test_build_dataset_applies_the_config_category_map(tmp_path):
    annotations = write_bdd100k_coco(tmp_path)
    config = load_config(CONFIGS / "bdd100k_coco_classes.py").data
    for split in ("train", "val"):
        setattr(config, f"{split}_images", str(tmp_path / "images"))
        setattr(config, f"{split}_annotations", str(annotations))
    assert build_dataset(config, "val", (300, 300)).class_names[:2] == ("person", "car")
    assert load_config(CONFIGS / "bdd100k_ssdlite.py").data.category_map is None
