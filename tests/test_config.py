import re
from pathlib import Path

import pytest
import torch

from ssdlite.config import Config, ConfigError, apply_overrides, from_dict, load_config, to_dict
from ssdlite.training.runner import resolve_precision

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
BASE = CONFIGS / "coco_ssdlite.py"


def test_paper_config_loads():
    config = load_config("configs/coco_ssdlite.py")
    assert config.model.image_size == (300, 300)
    assert from_dict(to_dict(config)) == config


def test_unknown_key_in_a_config_file_names_it(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("from ssdlite.config import *\nconfig = Config(model=ModelConfig(imag_size=(300, 300)))\n")
    with pytest.raises(ConfigError, match="imag_size"):
        load_config(path)


def test_misspelt_assignment_in_an_experiment_names_it(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(f"from ssdlite.config import load_config\nconfig = load_config({str(BASE)!r})\nconfig.train.l_r = 1\n")
    with pytest.raises(ConfigError, match="l_r"):
        load_config(path)


def test_wrong_type_names_the_key(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("from ssdlite.config import *\nconfig = Config(train=TrainConfig(lr='fast'))\n")
    with pytest.raises(ConfigError, match="train.lr"):
        load_config(path)


def test_experiments_do_not_leak_into_the_base(tmp_path):
    path = tmp_path / "exp.py"
    path.write_text(f"from ssdlite.config import load_config\nconfig = load_config({str(BASE)!r})\nconfig.train.lr = 0.5\n")
    assert load_config(path).train.lr == 0.5
    assert load_config("configs/coco_ssdlite.py").train.lr == 0.015


def test_a_base_is_relative_to_the_file_that_names_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(CONFIGS / "driving_ssdlite.py")
    assert config.data.classes[0] == "person" and config.model.image_size == (300, 300)
    (tmp_path / "bases").mkdir()
    (tmp_path / "bases" / "base.py").write_text("from ssdlite.config import Config\nconfig = Config()\n")
    (tmp_path / "experiments" / "deep").mkdir(parents=True)
    experiment = tmp_path / "experiments" / "deep" / "exp.py"
    experiment.write_text(
        "from ssdlite.config import load_config\nconfig = load_config('../../bases/base.py')\nconfig.train.lr = 0.5\n"
    )
    monkeypatch.chdir(CONFIGS)  # neither the experiment's folder nor its base's
    assert load_config(experiment).train.lr == 0.5
    assert load_config("driving_ssdlite.py").data.classes[0] == "person"  # top level: the working directory


def test_a_missing_base_names_the_file_that_names_it(tmp_path):
    path = tmp_path / "exp.py"
    path.write_text("from ssdlite.config import load_config\nconfig = load_config('configs/coco_ssdlite.py')\n")
    with pytest.raises(
        ConfigError, match=re.escape(f"{tmp_path / 'configs' / 'coco_ssdlite.py'} does not exist (named in {path}")
    ):
        load_config(path)


def test_overrides_are_parsed_and_type_checked():
    config = apply_overrides(
        Config(), ["train.lr=1", "trainer.strategy=ddp", "model.image_size=[320, 320]", "data.classes=('car',)"]
    )
    assert config.train.lr == 1.0 and isinstance(config.train.lr, float)
    assert config.trainer.strategy == "ddp"
    assert config.model.image_size == (320, 320)
    assert config.data.classes == ("car",)
    with pytest.raises(ConfigError, match="expected int"):
        apply_overrides(Config(), ["trainer.devices=two"])


def test_unknown_override_suggests_close_keys():
    with pytest.raises(ConfigError, match=r"unknown config key 'train\.lrr'; did you mean train\.lr"):
        apply_overrides(Config(), ["train.lrr=0.1"])
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides(Config(), ["train.lr"])


def test_unknown_precision_names_the_key_and_the_choices(tmp_path):
    with pytest.raises(ConfigError, match="trainer.precision='16mixed': expected one of 'auto', '32-true', '16-mixed'"):
        apply_overrides(Config(), ["trainer.precision=16mixed"])
    assert apply_overrides(Config(), ["trainer.precision=bf16-mixed"]).trainer.precision == "bf16-mixed"
    path = tmp_path / "mixed.py"
    path.write_text(
        "from ssdlite.config import Config, TrainerConfig\nconfig = Config(trainer=TrainerConfig(precision='fp16'))\n"
    )
    with pytest.raises(ConfigError, match="trainer.precision = 'fp16': expected one of 'auto'"):
        load_config(path)


def test_precision_auto_is_mixed_only_on_a_gpu(monkeypatch):
    assert resolve_precision("bf16-mixed", "cpu") == "bf16-mixed"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_precision("auto", "auto") == "32-true"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_precision("auto", "auto") == "16-mixed"
    assert resolve_precision("auto", "cpu") == "32-true"


@pytest.mark.parametrize(
    "key, value",
    [
        ("trainer.strategy", "dpp"),
        ("trainer.accelerator", "tpu"),
        ("trainer.precision", "fp16"),
        ("model.cls_loss", "hinge"),
        ("train.optimizer", "rmsprop"),
        ("train.lr_scaling", "cube"),
        ("data.synthetic_scene", "far"),
    ],
)
def test_every_closed_choice_fails_at_load_time(tmp_path, key, value):
    path = tmp_path / "bad.py"
    path.write_text(f"from ssdlite.config import Config\nconfig = Config()\nconfig.{key} = {value!r}\n")
    with pytest.raises(ConfigError, match=re.escape(f"{key} = {value!r}: expected one of")):
        load_config(path)


@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("model.iou_threshold", 0.0, "(0, 1]"),
        ("model.iou_threshold", 5.0, "(0, 1]"),
        ("model.nms_iou_threshold", 1.5, "(0, 1]"),
        ("model.score_threshold", -0.1, "[0, 1]"),
        ("train.max_warmup_fraction", 2.0, "[0, 1]"),
    ],
)
def test_iou_thresholds_and_fractions_out_of_range_fail(tmp_path, key, value, allowed):
    path = tmp_path / "bad.py"
    path.write_text(f"from ssdlite.config import Config\nconfig = Config()\nconfig.{key} = {value!r}\n")
    with pytest.raises(ConfigError, match=re.escape(f"{key} = {value!r}: ") + ".*" + re.escape(allowed)):
        load_config(path)
    with pytest.raises(ConfigError, match=re.escape(f"override: {key} = {value!r}: ") + ".*" + re.escape(allowed)):
        apply_overrides(Config(), [f"{key}={value}"])


def test_an_experiment_sets_the_input_convention_by_name(tmp_path):
    path = tmp_path / "imagenet.py"
    path.write_text(
        "from ssdlite.config import IMAGENET_MEAN, IMAGENET_STD, Config\n"
        "config = Config()\nconfig.model.image_mean = IMAGENET_MEAN\nconfig.model.image_std = IMAGENET_STD\n"
    )
    model = load_config(path).model
    assert (model.image_mean, model.image_std) == ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    assert from_dict(to_dict(load_config(path))).model == model
    with pytest.raises(ConfigError, match=r"model.image_std = \(0.5, 0.0, 0.5\): a standard deviation must be > 0"):
        apply_overrides(Config(), ["model.image_std=(0.5, 0, 0.5)"])
    with pytest.raises(ConfigError, match=r"model.image_mean='\(0.5, 0.5\)': expected tuple"):
        apply_overrides(Config(), ["model.image_mean=(0.5, 0.5)"])


def test_iou_threshold_at_one_and_fractions_at_their_bounds_load():
    config = apply_overrides(Config(), ["model.iou_threshold=1.0", "model.score_threshold=0.0", "train.max_warmup_fraction=1.0"])
    assert (config.model.iou_threshold, config.model.score_threshold) == (1.0, 0.0)
