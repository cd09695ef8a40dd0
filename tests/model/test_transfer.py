import pytest
import torch

from ssdlite.checkpoint import CheckpointError, save_checkpoint
from ssdlite.config import IMAGENET_MEAN, IMAGENET_STD, TF_MEAN, TF_STD, AnchorConfig, Config, ModelConfig
from ssdlite.model.build import build_model
from ssdlite.model.transfer import adopt_input_convention, init_from_checkpoint

SOURCE_CLASSES = ("person", "bicycle", "car")
TARGET_CLASSES = ("car", "truck", "person")


def tiny_config(image_size=(96, 160), width_mult=0.35) -> Config:
    return Config(model=ModelConfig(image_size=image_size, width_mult=width_mult))


def perturbed(model):
    """Every float tensor (weights and BN statistics) moved off its fresh init."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.rand(tensor.shape, generator=generator))
    return model


def save_source(path, config=None, class_names=SOURCE_CLASSES):
    config = config or tiny_config()
    torch.manual_seed(0)
    source = perturbed(build_model(config.model, len(class_names) + 1))
    save_checkpoint(path, source, config, class_names)
    return source


def build_target(config, class_names=TARGET_CLASSES):
    torch.manual_seed(2)
    return build_model(config.model, len(class_names) + 1)


def predictor_rows(conv, num_classes):
    """(weight Tensor[A, C, in], bias Tensor[A, C]) of a 1x1 class predictor conv."""
    return conv.weight.detach().flatten(1).unflatten(0, (-1, num_classes)), conv.bias.detach().unflatten(0, (-1, num_classes))


def test_fine_tuning_keeps_shared_classes_by_name_at_another_input_size(tmp_path):
    source = save_source(tmp_path / "source.ckpt")
    target = build_target(tiny_config(image_size=(128, 128)))
    fresh = {k: v.clone() for k, v in target.state_dict().items()}
    report = init_from_checkpoint(target, TARGET_CLASSES, tmp_path / "source.ckpt")

    source_state, target_state = source.state_dict(), target.state_dict()
    for key in source_state:
        if key.startswith(("backbone.", "head.regression_head.")):
            assert torch.equal(target_state[key], source_state[key]), key
    # label in target -> label in source: car 1 <- 3, person 3 <- 1; truck 2 is new
    for level, (source_level, target_level) in enumerate(
        zip(source.head.classification_head.module_list, target.head.classification_head.module_list)
    ):
        assert torch.equal(target_level[0][1].running_mean, source_level[0][1].running_mean)
        source_weight, source_bias = predictor_rows(source_level[-1], 4)
        target_weight, target_bias = predictor_rows(target_level[-1], 4)
        fresh_weight = fresh[f"head.classification_head.module_list.{level}.1.weight"].flatten(1).unflatten(0, (-1, 4))
        fresh_bias = fresh[f"head.classification_head.module_list.{level}.1.bias"].unflatten(0, (-1, 4))
        for target_label, source_label in [(0, 0), (1, 3), (3, 1)]:
            assert torch.equal(target_weight[:, target_label], source_weight[:, source_label])
            assert torch.equal(target_bias[:, target_label], source_bias[:, source_label])
        assert torch.equal(target_weight[:, 2], fresh_weight[:, 2])
        assert torch.equal(target_bias[:, 2], fresh_bias[:, 2])

    assert report.classes_kept == ["car", "person"]
    assert report.classes_new == ["truck"]
    assert report.classes_dropped == ["bicycle"]
    num_levels = len(target.head.classification_head.module_list)
    assert len(report.remapped) == 2 * num_levels
    assert report.num_loaded + len(report.remapped) == len(target_state)
    assert report.reinitialised == [] and report.dropped == []
    assert "truck" in report.summary() and "bicycle" in report.summary()
    target.eval()(torch.zeros(1, 3, 128, 128))  # the anchors follow the new input size


def test_predictors_of_other_anchor_counts_are_reinitialised_and_reported(tmp_path):
    source = save_source(tmp_path / "source.ckpt")
    config = tiny_config()
    # Fewer anchors on every map but the first, which always has 3 (TF's reduced set).
    config.model.anchors = AnchorConfig(aspect_ratios=(1.0, 2.0, 0.5))
    target = build_target(config, ("bicycle",))
    fresh = {k: v.clone() for k, v in target.state_dict().items()}
    report = init_from_checkpoint(target, ("bicycle",), tmp_path / "source.ckpt")

    assert report.remapped == ["head.classification_head.module_list.0.1.weight", "head.classification_head.module_list.0.1.bias"]
    source_weight, source_bias = predictor_rows(source.head.classification_head.module_list[0][-1], 4)
    target_weight, target_bias = predictor_rows(target.head.classification_head.module_list[0][-1], 2)
    assert torch.equal(target_weight, source_weight[:, [0, 2]]) and torch.equal(target_bias, source_bias[:, [0, 2]])
    assert report.reinitialised and all(key.endswith((".1.weight", ".1.bias")) for key in report.reinitialised)
    for key in report.reinitialised:
        assert torch.equal(target.state_dict()[key], fresh[key]), key
    assert report.classes_kept == ["bicycle"] and report.classes_new == [] and report.classes_dropped == ["person", "car"]


def test_ema_weights_are_the_ones_loaded(tmp_path):
    source = save_source(tmp_path / "source.ckpt")
    checkpoint = torch.load(tmp_path / "source.ckpt", weights_only=True)
    ema = {k: v + 1 if v.is_floating_point() else v for k, v in source.state_dict().items()}
    checkpoint["ema_state_dict"] = ema
    torch.save(checkpoint, tmp_path / "ema.ckpt")
    target = build_target(tiny_config(), SOURCE_CLASSES)
    report = init_from_checkpoint(target, SOURCE_CLASSES, tmp_path / "ema.ckpt")
    assert report.num_loaded == len(ema) and report.remapped == []
    for key, value in target.state_dict().items():
        assert torch.equal(value, ema[key]), key


def test_another_architecture_is_refused(tmp_path):
    save_source(tmp_path / "source.ckpt", tiny_config(width_mult=0.35))
    target = build_target(tiny_config(width_mult=0.5))
    with pytest.raises(CheckpointError, match=r"source\.ckpt.*another architecture.*width_mult=0\.35"):
        init_from_checkpoint(target, TARGET_CLASSES, tmp_path / "source.ckpt")


def test_a_checkpoint_of_another_input_convention_is_loaded_with_a_warning_naming_both(tmp_path, caplog):
    save_source(tmp_path / "source.ckpt")  # the [-1, 1] default
    imagenet = tiny_config()
    imagenet.model.image_mean, imagenet.model.image_std = IMAGENET_MEAN, IMAGENET_STD
    target = build_target(imagenet, SOURCE_CLASSES)
    with caplog.at_level("WARNING", logger="ssdlite.model.transfer"):
        report = init_from_checkpoint(target, SOURCE_CLASSES, tmp_path / "source.ckpt")
    (record,) = caplog.records
    assert "source.ckpt" in record.message and "[-1, 1]" in record.message and "ImageNet" in record.message
    assert report.num_loaded == len(target.state_dict())  # the weights load all the same
    assert target.image_std.flatten().tolist() == pytest.approx(IMAGENET_STD)  # the model keeps its own convention


def test_fine_tuning_adopts_the_input_convention_of_the_checkpoint(tmp_path):
    save_source(tmp_path / "source.ckpt")  # the [-1, 1] default
    imagenet = tiny_config()
    imagenet.model.image_mean, imagenet.model.image_std = IMAGENET_MEAN, IMAGENET_STD
    imagenet.model.init_from = str(tmp_path / "source.ckpt")
    adopted = adopt_input_convention(imagenet)
    assert (adopted.model.image_mean, adopted.model.image_std) == (TF_MEAN, TF_STD)
    assert imagenet.model.image_mean == IMAGENET_MEAN  # the recipe itself is left as it was


def test_the_same_input_convention_gives_no_warning(tmp_path, caplog):
    save_source(tmp_path / "source.ckpt")
    checkpoint = torch.load(tmp_path / "source.ckpt", weights_only=True)
    for key in ("image_mean", "image_std"):  # a checkpoint from before the fields: [-1, 1]
        del checkpoint["hyper_parameters"]["config"]["model"][key]
    torch.save(checkpoint, tmp_path / "old.ckpt")
    with caplog.at_level("WARNING", logger="ssdlite.model.transfer"):
        init_from_checkpoint(build_target(tiny_config()), TARGET_CLASSES, tmp_path / "old.ckpt")
    assert not caplog.records


def test_a_file_that_is_not_an_ssdlite_checkpoint_is_refused(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    target = build_target(tiny_config())
    with pytest.raises(CheckpointError, match="not an ssdlite checkpoint"):
        init_from_checkpoint(target, TARGET_CLASSES, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        init_from_checkpoint(target, TARGET_CLASSES, tmp_path / "missing.ckpt")


def level(head, index: int) -> dict:
    """The weights and BN statistics of one level of the head, classification and regression."""
    branches = {"cls": head.classification_head, "box": head.regression_head}
    return {
        f"{name}.{key}": value
        for name, branch in branches.items()
        for key, value in branch.module_list[index].state_dict().items()
    }


def stride8_config(stride8_map: bool) -> Config:
    config = tiny_config()
    config.model.stride8_map = stride8_map
    return config


def test_a_model_that_adds_the_stride8_level_keeps_the_other_levels_of_the_head(tmp_path):
    source = save_source(tmp_path / "source.ckpt")
    target = build_target(stride8_config(True), SOURCE_CLASSES)
    fresh_stride8_level = {k: v.clone() for k, v in level(target.head, 0).items()}
    report = init_from_checkpoint(target, SOURCE_CLASSES, tmp_path / "source.ckpt")
    assert all(torch.equal(v, level(target.head, 0)[k]) for k, v in fresh_stride8_level.items())
    for index in range(len(source.head.regression_head.module_list)):  # its level i is the model's i + 1
        assert all(torch.equal(v, level(target.head, index + 1)[k]) for k, v in level(source.head, index).items())
    assert all(torch.equal(v, source.backbone.state_dict()[k]) for k, v in target.backbone.state_dict().items())
    assert report.reinitialised and all(".module_list.0." in key for key in report.reinitialised)
    assert not report.dropped


def test_a_model_without_the_stride8_level_drops_it_and_keeps_the_others(tmp_path):
    source = save_source(tmp_path / "source.ckpt", stride8_config(True))
    target = build_target(stride8_config(False), SOURCE_CLASSES)
    report = init_from_checkpoint(target, SOURCE_CLASSES, tmp_path / "source.ckpt")
    for index in range(len(target.head.regression_head.module_list)):
        assert all(torch.equal(v, level(source.head, index + 1)[k]) for k, v in level(target.head, index).items())
    assert not report.reinitialised
    assert report.dropped and all(".module_list.0." in key for key in report.dropped)
