import pytest
import torch

from ssdlite.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from ssdlite.config import Config, ModelConfig
from ssdlite.model.build import build_model


def small_config(**model) -> Config:
    return Config(model=ModelConfig(image_size=(96, 96), width_mult=0.35, **model))


def test_round_trip_rebuilds_the_same_detector(tmp_path):
    config = small_config()
    model = build_model(config.model, 3).eval()
    save_checkpoint(tmp_path / "m.ckpt", model, config, ("car", "bus"))
    loaded, loaded_config, class_names = load_checkpoint(tmp_path / "m.ckpt")
    assert class_names == ("car", "bus") and loaded_config == config
    images = torch.rand(1, 3, 96, 96) * 2 - 1
    assert all(torch.equal(a, b) for a, b in zip(model(images), loaded(images)))


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
