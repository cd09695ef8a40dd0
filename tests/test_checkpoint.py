import pytest
import torch

from ssdlite.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from ssdlite.config import IMAGENET_MEAN, IMAGENET_STD, TF_MEAN, TF_STD, Config, ModelConfig
from ssdlite.model.build import build_model


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
