"""Bad data, configs and paths through the tools: one `error:` line naming the file, no traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from coco_files import ann, write_coco

from ssdlite.checkpoint import save_checkpoint
from ssdlite.config import Config, ModelConfig
from ssdlite.model.build import build_model

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # each case starts a Python that imports Lightning


def train_on(root: Path, annotations: Path, cwd: Path = REPO, *overrides: str) -> subprocess.CompletedProcess:
    """tools/train.py on the synthetic config, pointed at `root`/images and `annotations`, plus `overrides`."""
    data = [f"data.{split}_images={root / 'images'}" for split in ("train", "val")]
    data += [f"data.{split}_annotations={annotations}" for split in ("train", "val")]
    return subprocess.run(
        [
            sys.executable,
            "tools/train.py",
            "configs/synthetic_driving.py",
            "--work-dir",
            str(root / "run"),
            "--set",
            "data.synthetic=False",
            "data.num_workers=0",
            *data,
            *overrides,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def error_line(result: subprocess.CompletedProcess) -> str:
    """The one `error:` line of a failed run, checked to be its only error output."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), result.stderr
    assert sum("error" in line.lower() for line in lines) == 1, result.stderr
    return lines[-1]


def rewrite(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_an_image_missing_on_disk(tmp_path):
    annotations = write_coco(tmp_path, [ann(1, 1, 1, [10, 10, 20, 20])])
    (tmp_path / "images" / "2.png").unlink()
    line = error_line(train_on(tmp_path, annotations))
    assert str(annotations) in line and "1 images missing under" in line and "2.png" in line and "Fix the annotation file" in line


def test_a_missing_checkpoint_to_start_from(tmp_path):
    annotations = write_coco(tmp_path, [ann(1, 1, 1, [10, 10, 20, 20])])
    missing = tmp_path / "coco_driving" / "best.ckpt"
    line = error_line(train_on(tmp_path, annotations, REPO, f"model.init_from={missing}", "data.classes=('person',)"))
    assert str(missing) in line and "does not exist" in line


def test_an_unknown_category_id(tmp_path):
    annotations = write_coco(tmp_path, [ann(1, 1, 1, [10, 10, 20, 20]), ann(2, 2, 5, [10, 10, 20, 20])])
    line = error_line(train_on(tmp_path, annotations))
    assert str(annotations) in line and "annotation 2 -> category 5" in line


def test_a_duplicate_image_id(tmp_path):
    annotations = write_coco(tmp_path, [ann(1, 1, 1, [10, 10, 20, 20])])
    rewrite(annotations, lambda data: data["images"].append({"id": 2, "file_name": "1.png", "width": 100, "height": 80}))
    line = error_line(train_on(tmp_path, annotations))
    assert str(annotations) in line and "1 duplicate image ids, e.g. [2]" in line


def test_an_annotation_file_that_is_not_json(tmp_path):
    annotations = write_coco(tmp_path, [])
    annotations.write_text("images: []\n")
    line = error_line(train_on(tmp_path, annotations))
    assert str(annotations) in line and "cannot be read as JSON" in line


def test_missing_coco_data_says_where_to_get_it(tmp_path):
    if (REPO / "data" / "coco").exists():
        pytest.skip("COCO is here: the run would start training")
    result = subprocess.run(
        [sys.executable, "tools/train.py", "configs/coco_ssdlite.py", "--work-dir", str(tmp_path / "run")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = error_line(result)
    assert "data/coco/annotations/instances_train2017.json" in line and "cocodataset.org" in line


def test_an_experiment_config_runs_from_another_folder(tmp_path):
    """Its base resolves beside it; COCO (relative to the working directory) is then missing."""
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "tools/train.py"),
            str(REPO / "configs/driving_ssdlite.py"),
            "--work-dir",
            str(tmp_path / "run"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = error_line(result)
    assert "train data not found: data/coco/annotations/instances_train2017.json" in line, line


def test_browse_dataset_reports_bad_data(tmp_path):
    annotations = write_coco(tmp_path, [ann(1, 1, 5, [10, 10, 20, 20])])
    result = subprocess.run(
        [
            sys.executable,
            "tools/browse_dataset.py",
            "configs/synthetic_driving.py",
            "--out",
            str(tmp_path / "out"),
            "--set",
            "data.synthetic=False",
            f"data.train_images={tmp_path / 'images'}",
            f"data.train_annotations={annotations}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = error_line(result)
    assert str(annotations) in line and "annotation 1 -> category 5" in line


def test_eval_reports_bad_data_and_a_bad_checkpoint(tmp_path):
    checkpoint = tmp_path / "model.ckpt"
    model_config = ModelConfig(image_size=(96, 160), width_mult=0.35)
    save_checkpoint(checkpoint, build_model(model_config, num_classes=3), Config(model=model_config), ("person", "car"))
    annotations = write_coco(tmp_path, [])
    annotations.write_text("")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "tools/eval.py", *args], cwd=REPO, capture_output=True, text=True, timeout=300)

    line = error_line(
        run(
            "--checkpoint",
            str(checkpoint),
            "--set",
            f"data.val_images={tmp_path / 'images'}",
            f"data.val_annotations={annotations}",
        )
    )
    assert str(annotations) in line and "cannot be read as JSON" in line
    checkpoint.write_text("not a checkpoint")
    assert str(checkpoint) in error_line(run("--checkpoint", str(checkpoint)))
