from pathlib import Path

import pytest
import torch

from ssdlite.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from ssdlite.config import IMAGENET_MEAN, IMAGENET_STD, TF_MEAN, TF_STD, Config, ModelConfig
from ssdlite.config_groups import AnchorConfig, AugmentConfig, LossConfig, MatchingConfig, PostprocessConfig
from ssdlite.model.build import build_model

# Written by the code before the setting groups (tests/fixtures/flat_checkpoint/make_checkpoint.py).
FLAT_CHECKPOINT = Path(__file__).resolve().parent / "fixtures" / "flat_checkpoint"


def small_config(**model) -> Config:
    return Config(model=ModelConfig(image_size=(96, 96), width_mult=0.35, **model))


def test_round_trip_rebuilds_the_same_detector(tmp_path):
    config = small_config()
    model = build_model(config.model, 3).eval()
    save_checkpoint(tmp_path / "m.ckpt", model, config, ("car", "bus"))
    loaded, loaded_config, class_names = load_checkpoint(tmp_path / "m.ckpt")
    assert class_names == ("car", "bus") and loaded_config == config
    images = torch.rand(1, 3, 96, 96)
    assert all(torch.equal(a, b) for a, b in zip(model(images), loaded(images)))


def test_a_checkpoint_saved_before_the_input_convention_loads_with_minus_one_to_one(tmp_path):
    config = small_config()
    model = build_model(config.model, 3).eval()
    save_checkpoint(tmp_path / "m.ckpt", model, config, ("car", "bus"))
    checkpoint = torch.load(tmp_path / "m.ckpt", weights_only=True)
    for key in ("image_mean", "image_std"):  # as saved before the fields existed
        del checkpoint["hyper_parameters"]["config"]["model"][key]
    torch.save(checkpoint, tmp_path / "old.ckpt")
    loaded, loaded_config, _ = load_checkpoint(tmp_path / "old.ckpt")
    assert (loaded_config.model.image_mean, loaded_config.model.image_std) == (TF_MEAN, TF_STD) == ((0.5,) * 3, (0.5,) * 3)
    assert loaded.image_mean.flatten().tolist() == [0.5] * 3 and loaded.image_std.flatten().tolist() == [0.5] * 3
    images = torch.rand(1, 3, 96, 96)
    assert all(torch.equal(a, b) for a, b in zip(model(images), loaded(images)))


def test_the_checkpoint_records_its_input_convention(tmp_path):
    config = small_config(image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD)
    save_checkpoint(tmp_path / "m.ckpt", build_model(config.model, 3), config, ("car", "bus"))
    loaded, loaded_config, _ = load_checkpoint(tmp_path / "m.ckpt")
    assert (loaded_config.model.image_mean, loaded_config.model.image_std) == (IMAGENET_MEAN, IMAGENET_STD)
    assert loaded.image_std.flatten().tolist() == pytest.approx(IMAGENET_STD)


def test_ema_weights_win(tmp_path):
    config = small_config()
    model = build_model(config.model, 3)
    save_checkpoint(tmp_path / "m.ckpt", model, config, ("car", "bus"))
    checkpoint = torch.load(tmp_path / "m.ckpt", weights_only=True)
    ema = {k: v + 1 if v.is_floating_point() else v for k, v in model.state_dict().items()}
    checkpoint["ema_state_dict"] = ema
    torch.save(checkpoint, tmp_path / "ema.ckpt")
    loaded, _, _ = load_checkpoint(tmp_path / "ema.ckpt")
    assert torch.equal(
        loaded.head.classification_head.module_list[0][1].weight, ema["head.classification_head.module_list.0.1.weight"]
    )


def test_missing_and_foreign_files_are_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "nope.ckpt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an ssdlite checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    (tmp_path / "garbage.ckpt").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="could not be read"):
        load_checkpoint(tmp_path / "garbage.ckpt")


def test_code_in_a_checkpoint_is_never_run(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("ran code from a checkpoint",))

    torch.save({"state_dict": {}, "hyper_parameters": {"config": {}, "class_names": []}, "x": Payload()}, tmp_path / "evil.ckpt")
    with pytest.raises(CheckpointError, match="could not be read"):
        load_checkpoint(tmp_path / "evil.ckpt")


def test_checkpoint_of_another_model_is_refused(tmp_path):
    config = small_config()
    save_checkpoint(tmp_path / "m.ckpt", build_model(config.model, 3), config, ("car", "bus"))
    checkpoint = torch.load(tmp_path / "m.ckpt", weights_only=True)
    checkpoint["hyper_parameters"]["class_names"] = ["car", "bus", "person"]  # head no longer fits
    torch.save(checkpoint, tmp_path / "mismatch.ckpt")
    with pytest.raises(CheckpointError, match="weights of another model"):
        load_checkpoint(tmp_path / "mismatch.ckpt")


def test_saved_config_with_unknown_keys_is_refused(tmp_path):
    config = small_config()
    save_checkpoint(tmp_path / "m.ckpt", build_model(config.model, 3), config, ("car", "bus"))
    checkpoint = torch.load(tmp_path / "m.ckpt", weights_only=True)
    checkpoint["hyper_parameters"]["config"]["model"]["depth"] = 50
    torch.save(checkpoint, tmp_path / "future.ckpt")
    with pytest.raises(CheckpointError, match="model.depth"):
        load_checkpoint(tmp_path / "future.ckpt")


def test_a_checkpoint_of_the_flat_config_loads_into_the_groups_and_predicts_as_before():
    model, config, class_names = load_checkpoint(FLAT_CHECKPOINT / "model.ckpt")
    assert class_names == ("person", "car") and config.model.stride8_map
    assert config.model.anchors == AnchorConfig(
        min_scale=0.15, max_scale=0.9, aspect_ratios=(1.0, 2.0, 0.5), stride8_anchor_scale=0.08
    )
    assert config.model.matching == MatchingConfig(iou_threshold=0.4, crowd_ioa_threshold=0.6)
    assert config.model.loss == LossConfig(neg_pos_ratio=2.0, min_negatives_per_image=4)
    assert config.model.postprocess == PostprocessConfig(
        score_threshold=0.3, nms_iou_threshold=0.5, topk_per_class=50, max_candidates_per_image=80, max_detections_per_image=10
    )
    assert config.data.augment == AugmentConfig(photometric=False, zoom_out_max=2.0, min_iou_crop=False, hflip=False)
    before = torch.load(FLAT_CHECKPOINT / "outputs.pt", weights_only=True)
    with torch.no_grad():
        cls_logits, bbox_regression = model(before["images"])
        detections = model.postprocess(cls_logits, bbox_regression)
    torch.testing.assert_close(cls_logits, before["cls_logits"], atol=1e-5, rtol=0)
    torch.testing.assert_close(bbox_regression, before["bbox_regression"], atol=1e-5, rtol=0)
    for ours, theirs in zip(detections, before["detections"], strict=True):
        assert len(theirs["labels"]) > 0 and torch.equal(ours["labels"], theirs["labels"])
        torch.testing.assert_close(ours["scores"], theirs["scores"], atol=1e-5, rtol=0)
        torch.testing.assert_close(ours["boxes"], theirs["boxes"], atol=1e-3, rtol=0)
