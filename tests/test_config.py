import re
from pathlib import Path

import pytest
import torch

from ssdlite.config import Config, ConfigError, apply_overrides, from_dict, load_config, to_dict
from ssdlite.config_groups import AnchorConfig, AugmentConfig, LossConfig, MatchingConfig, PostprocessConfig
from ssdlite.config_keys import MOVED, leaf_keys
from ssdlite.training.runner import resolve_precision

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
BASE = CONFIGS / "coco_ssdlite.py"


def config_file(tmp_path: Path, line: str) -> Path:
    """A config file that makes the default `Config` and runs `line`."""
    path = tmp_path / "experiment.py"
    path.write_text(f"from ssdlite.config import Config, DataConfig, ModelConfig\nconfig = Config()\n{line}\n")
    return path


def assignment(key: str, value) -> str:
    """The lines of a config file that set `key`, replacing the frozen setting group it lies in."""
    *parents, name = key.split(".")
    if len(parents) == 1:
        return f"config.{key} = {value!r}"
    group = "config." + ".".join(parents)
    return f"import dataclasses\n{group} = dataclasses.replace({group}, {name}={value!r})"


def test_paper_config_loads():
    config = load_config("configs/coco_ssdlite.py")
    assert config.model.image_size == (300, 300)
    assert from_dict(to_dict(config)) == config


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.py")), ids=lambda path: path.name)
def test_every_shipped_config_loads_and_survives_a_checkpoint(path):
    config = load_config(path)
    assert from_dict(to_dict(config)) == config


def test_experiments_change_setting_groups_by_replacing_them():
    cpu = load_config(CONFIGS / "driving_ssdlite_cpu.py")
    assert cpu.model.anchors == AnchorConfig(min_scale=0.15)
    assert cpu.model.matching == MatchingConfig(iou_threshold=0.4)  # from its base, driving_ssdlite.py
    assert cpu.data.augment == AugmentConfig(zoom_out_max=1.0)
    assert load_config(CONFIGS / "driving_ssdlite.py").model.anchors == AnchorConfig()  # the base is not changed


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
    with pytest.raises(ConfigError, match=r"did you mean model\.postprocess\.score_threshold"):
        apply_overrides(Config(), ["model.postprocess.score_treshold=0.3"])
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
        ("model.loss.cls_loss", "hinge"),
        ("train.optimizer", "rmsprop"),
        ("train.lr_scaling", "cube"),
        ("data.synthetic_scene", "far"),
    ],
)
def test_every_closed_choice_fails_at_load_time(tmp_path, key, value):
    with pytest.raises(ConfigError, match=re.escape(f"{key} = {value!r}: expected one of")):
        load_config(config_file(tmp_path, assignment(key, value)))


@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("model.matching.iou_threshold", 0.0, "(0, 1]"),
        ("model.matching.iou_threshold", 5.0, "(0, 1]"),
        ("model.matching.crowd_ioa_threshold", 1.5, "(0, 1]"),
        ("model.postprocess.nms_iou_threshold", 1.5, "(0, 1]"),
        ("model.postprocess.score_threshold", -0.1, "[0, 1]"),
        ("train.max_warmup_fraction", 2.0, "[0, 1]"),
    ],
)
def test_iou_thresholds_and_fractions_out_of_range_fail(tmp_path, key, value, allowed):
    with pytest.raises(ConfigError, match=re.escape(f"{key} = {value!r}: ") + ".*" + re.escape(allowed)):
        load_config(config_file(tmp_path, assignment(key, value)))
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
    config = apply_overrides(
        Config(), ["model.matching.iou_threshold=1.0", "model.postprocess.score_threshold=0.0", "train.max_warmup_fraction=1.0"]
    )
    assert (config.model.matching.iou_threshold, config.model.postprocess.score_threshold) == (1.0, 0.0)


def test_nested_overrides_replace_the_group_and_keep_its_other_settings():
    config = Config()
    before = config.model.postprocess
    config = apply_overrides(config, ["model.postprocess.score_threshold=0.3", "model.postprocess.topk_per_class=50"])
    assert config.model.postprocess == PostprocessConfig(score_threshold=0.3, topk_per_class=50)
    assert before == PostprocessConfig()  # a group handed out before never changes
    assert apply_overrides(Config(), ["data.augment.hflip=False"]).data.augment == AugmentConfig(hflip=False)
    with pytest.raises(ConfigError, match=r"model\.postprocess\.topk_per_class='many': expected int"):
        apply_overrides(Config(), ["model.postprocess.topk_per_class=many"])


@pytest.mark.parametrize("old", ["model.score_threshold", "model.min_scale", "model.cls_loss", "data.zoom_out_max"])
def test_a_flat_key_names_its_new_place(old):
    with pytest.raises(ConfigError, match=re.escape(f"'{old}'; it is now {MOVED[old]}")):
        apply_overrides(Config(), [f"{old}=1"])


def test_every_moved_key_has_a_place_and_no_old_key_is_left():
    keys = leaf_keys(Config())
    assert set(MOVED.values()) <= set(keys) and not set(MOVED) & set(keys)


@pytest.mark.parametrize(
    "line, new_place",
    [
        ("config.model.min_scale = 0.15", "model.anchors.min_scale"),
        ("config = Config(model=ModelConfig(score_threshold=0.3))", "model.postprocess.score_threshold"),
        ("config = Config(data=DataConfig(hflip=False))", "data.augment.hflip"),
    ],
)
def test_a_config_file_setting_a_flat_key_is_told_its_new_place(tmp_path, line, new_place):
    path = config_file(tmp_path, line)
    with pytest.raises(ConfigError, match=re.escape(f"{path}: ") + ".*" + re.escape(f"is now {new_place}")):
        load_config(path)


def test_a_config_file_changing_a_frozen_group_in_place_is_shown_replace(tmp_path):
    path = config_file(tmp_path, "config.model.anchors.min_scale = 0.15")
    with pytest.raises(ConfigError, match=re.escape(str(path)) + ".*min_scale.*dataclasses.replace"):
        load_config(path)
    with pytest.raises(ConfigError, match="model.loss = 'focal': expected LossConfig"):
        load_config(config_file(tmp_path, "config.model.loss = 'focal'"))


def test_a_flat_saved_config_moves_into_the_groups():
    flat = {
        "model": {"image_size": [96, 96], "min_scale": 0.15, "iou_threshold": 0.4, "cls_loss": "focal", "score_threshold": 0.3},
        "data": {"hflip": False, "zoom_out_max": 1},
    }
    config = from_dict(flat)
    assert config.model.image_size == (96, 96)
    assert config.model.anchors == AnchorConfig(min_scale=0.15)
    assert config.model.matching == MatchingConfig(iou_threshold=0.4)
    assert config.model.loss == LossConfig(cls_loss="focal")
    assert config.model.postprocess == PostprocessConfig(score_threshold=0.3)
    assert config.data.augment == AugmentConfig(hflip=False, zoom_out_max=1.0)
    assert "min_scale" in flat["model"]  # the caller's data is left as it was
    with pytest.raises(ConfigError, match=re.escape("model.postprocess.nms_iou_threshold = 1.5")):
        from_dict({"model": {"nms_iou_threshold": 1.5}})
    with pytest.raises(ConfigError, match=r"model\.anchors\.scale"):
        from_dict({"model": {"anchors": {"scale": 0.2}}})
