"""INT8 post-training quantisation: an OpenVINO IR by NNCF, an ONNX file by onnxruntime's static QDQ.

Both calibrate on real images: the training split of a config's data,
preprocessed as for validation (resize, scale to [0, 1], no augmentation). The
graphs hold the network only; decoding and NMS stay in floating point outside.

onnxruntime's weights are quantised to 7 bits. x86 CPUs without VNNI (AVX2,
and AVX-512 before Cascade Lake) multiply its uint8 activations by int8 weights
in pairs summed into int16 (vpmaddubsw), which saturates with 8-bit weights: on
such a machine its int8 kernels moved logits far from what the file's own Q/DQ
graph computes, and cost the trained paper model AP that 7 bits mostly keep
(docs/benchmarks.md). A quantised file is made on one machine and run on others,
so it is made for all of them. For the same reason NNCF's overflow fix covers
every layer, not only the first (its default): on an AVX2-only CPU the default
lost boxes of the memorised test model in OpenVINO's int8 kernels.

`openvino`, `nncf` and `onnxruntime.quantization` are imported inside the
functions that need them.
"""

import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import Tensor

from ssdlite.config import Config
from ssdlite.data.build import build_dataset, make_builtin_data
from ssdlite.data.coco import DatasetError
from ssdlite.data.transforms import val_transform
from ssdlite.inference.metadata import METADATA_KEYS, onnx_metadata, set_onnx_metadata


def calibration_images(config: Config, count: int) -> Tensor:
    """Tensor[count, 3, H, W]: `count` training images of `config`'s data, spread evenly over the split.

    Raises:
        DataNotFoundError: the config's data is not on disk.
        DatasetError: the split has fewer than `count` images.
    """
    make_builtin_data(config.data)
    dataset = build_dataset(config.data, "train", config.model.image_size)
    if len(dataset) < count:
        raise DatasetError(
            f"{config.data.train_annotations} has {len(dataset)} training images, fewer than the {count} "
            "asked for calibration; lower --calibration-images or point the config at more data"
        )
    dataset.transform = val_transform(config.model.image_size)
    indices = np.linspace(0, len(dataset) - 1, count).round().astype(int)
    return torch.stack([dataset[int(index)][0] for index in indices])


def quantize_openvino(xml_path: str, images: Tensor, out_path: str) -> str:
    """NNCF post-training quantisation of an IR from `export_openvino`, every layer; metadata carried over.

    Every convolution is quantised, the predictors' last ones too: on the demo
    model that cost no more AP than keeping those twelve in fp32 (docs/benchmarks.md).
    """
    import nncf
    import openvino
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, OverflowFix

    model = openvino.Core().read_model(xml_path)
    dataset = nncf.Dataset([image[None].numpy() for image in images])
    every_layer_7_bit = AdvancedQuantizationParameters(overflow_fix=OverflowFix.ENABLE)  # see the module docstring
    quantized = nncf.quantize(model, dataset, subset_size=len(images), advanced_parameters=every_layer_7_bit)
    for key in METADATA_KEYS:
        quantized.set_rt_info(model.get_rt_info(["ssdlite", key]).astype(str), ["ssdlite", key])
    openvino.save_model(quantized, out_path, compress_to_fp16=False)
    return out_path


def quantize_onnx(onnx_path: str, images: Tensor, out_path: str) -> str:
    """onnxruntime static quantisation (QDQ, per-channel 7-bit int8 weights, uint8 activations); metadata kept."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quant_pre_process, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"images": image[None].numpy()} for image in images])

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as folder:
        prepared = str(Path(folder) / "prepared.onnx")
        quant_pre_process(onnx_path, prepared)  # shape inference and graph optimisation, as onnxruntime advises
        quantize_static(
            prepared,
            out_path,
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            reduce_range=True,  # 7-bit weights: exact on CPUs without VNNI too (see the module's docstring)
        )
    copy_onnx_metadata(onnx_path, out_path)
    return out_path


def copy_onnx_metadata(source: str, target: str) -> None:
    """The ssdlite metadata of ONNX file `source` into ONNX file `target`."""
    model = onnx.load(target)
    set_onnx_metadata(model, onnx_metadata(source))
    onnx.save(model, target)
