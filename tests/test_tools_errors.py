"""Bad data, configs and paths through the tools: one `error:` line naming the file and record, no traceback."""

import json
from pathlib import Path

import pytest
from coco_files import ann, write_coco
from tool_process import REPO, error_line, run_tool

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import Config, ModelConfig
from ssdlite.model.build import build_model

pytestmark = pytest.mark.slow  # each case starts a Python that imports Lightning


def train_on(root: Path, annotations: Path, *overrides: str):
    """tools/train.py on the synthetic config, pointed at `root`/images and `annotations`, plus `overrides`."""
    data = [f"data.{split}_images={root / 'images'}" for split in ("train", "val")]
    data += [f"data.{split}_annotations={annotations}" for split in ("train", "val")]
    return run_tool(
        "tools/train.py", "configs/synthetic_driving.py", "--work-dir", root / "run", "--set", "data.synthetic=False",
        "data.num_workers=0", *data, *overrides, timeout=300,
    )  # fmt: skip


def rewrite(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_an_image_missing_on_disk(tmp_path):
    annotations = write_coco(tmp_path, [ann(1, 1, 1, [10, 10, 20, 20])])
    (tmp_path / "images" / "2.png").unlink()
    error_line(train_on(tmp_path, annotations), annotations, "2.png", "missing")


def test_a_missing_checkpoint_to_start_from(tmp_path):
    annotations = write_coco(tmp_path, [ann(1, 1, 1, [10, 10, 20, 20])])
    missing = tmp_path / "coco_driving" / "best.ckpt"
    error_line(train_on(tmp_path, annotations, f"model.init_from={missing}", "data.classes=('person',)"), missing)


def test_an_unknown_category_id(tmp_path):
    annotations = write_coco(tmp_path, [ann(1, 1, 1, [10, 10, 20, 20]), ann(2, 2, 5, [10, 10, 20, 20])])
    error_line(train_on(tmp_path, annotations), annotations, "annotation 2", "category 5")


def test_a_duplicate_image_id(tmp_path):
    annotations = write_coco(tmp_path, [ann(1, 1, 1, [10, 10, 20, 20])])
    rewrite(annotations, lambda data: data["images"].append({"id": 2, "file_name": "1.png", "width": 100, "height": 80}))
    error_line(train_on(tmp_path, annotations), annotations, "duplicate", "[2]")


def test_an_annotation_file_that_is_not_json(tmp_path):
    annotations = write_coco(tmp_path, [])
    annotations.write_text("images: []\n")
    error_line(train_on(tmp_path, annotations), annotations, "JSON")


def test_missing_coco_data_says_where_to_get_it(tmp_path):
    if (REPO / "data" / "coco").exists():
        pytest.skip("COCO is here: the run would start training")
    result = run_tool("tools/train.py", "configs/coco_ssdlite.py", "--work-dir", tmp_path / "run", timeout=300)
    error_line(result, "data/coco/annotations/instances_train2017.json", "cocodataset.org")


def test_an_experiment_config_runs_from_another_folder(tmp_path):
    """Its base resolves beside it; COCO (relative to the working directory) is then missing."""
    config = REPO / "configs/driving_ssdlite.py"
    result = run_tool("tools/train.py", config, "--work-dir", tmp_path / "run", cwd=tmp_path, timeout=300)
    error_line(result, "data/coco/annotations/instances_train2017.json")


def test_browse_dataset_reports_bad_data(tmp_path):
    annotations = write_coco(tmp_path, [ann(1, 1, 5, [10, 10, 20, 20])])
    result = run_tool(
        "tools/browse_dataset.py", "configs/synthetic_driving.py", "--out", tmp_path / "out", "--set", "data.synthetic=False",
        f"data.train_images={tmp_path / 'images'}", f"data.train_annotations={annotations}", timeout=300,
    )  # fmt: skip
    error_line(result, annotations, "annotation 1", "category 5")


def test_eval_reports_bad_data_and_a_bad_checkpoint(tmp_path):
    checkpoint = tmp_path / "model.ckpt"
    model_config = ModelConfig(image_size=(96, 160), width_mult=0.35)
    save_checkpoint(checkpoint, build_model(model_config, num_classes=3), Config(model=model_config), ("person", "car"))
    annotations = write_coco(tmp_path, [])
    annotations.write_text("")
    data = [f"data.val_images={tmp_path / 'images'}", f"data.val_annotations={annotations}"]
    error_line(run_tool("tools/eval.py", "--checkpoint", checkpoint, "--set", *data, timeout=300), annotations, "JSON")
    checkpoint.write_text("not a checkpoint")
    error_line(run_tool("tools/eval.py", "--checkpoint", checkpoint, timeout=300), checkpoint)
