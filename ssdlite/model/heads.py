"""Box predictors: SSDLite's depthwise-separable ones, or SSD's single convolutions.

Both return {"cls_logits": Tensor[B, A, C], "bbox_regression": Tensor[B, A, 4]} with anchors
ordered by map, row, column, then anchor (torchvision's `SSDScoringHead` layout), and both
keep the class predictor as the last module of each level (`module_list[k][-1]`), which
`ssdlite.model.transfer` relies on.
"""

from collections.abc import Callable

from torch import Tensor, nn
from torchvision.models.detection.ssd import SSDScoringHead
from torchvision.models.detection.ssdlite import SSDLiteHead

from ssdlite.model.backbone import BatchNorm2d, truncated_normal_init


def ssdlite_head(
    in_channels: list[int],
    num_anchors: list[int],
    num_classes: int,
    *,
    norm_layer: Callable[..., nn.Module] = BatchNorm2d,
) -> SSDLiteHead:
    """torchvision's SSDLite head (3x3 depthwise + BN + ReLU6, then a 1x1 conv), TF-initialised.

    Args:
        in_channels: channels of each feature map.
        num_anchors: anchors per location of each feature map.
        num_classes: outputs per anchor, background included.
    """
    head = SSDLiteHead(in_channels, num_anchors, num_classes, norm_layer)
    truncated_normal_init(head)
    return head


class SSDConvHead(nn.Module):
    """SSD's convolutional box predictor: one conv with bias per map for classes, one for boxes.

    TF's `ConvolutionalBoxPredictor` with `use_depthwise: false` and no intermediate layers, as
    in `ssd_mobilenet_v2` (1x1 kernels). torchvision's `SSDHead` fixes its kernels at 3x3,
    hence this class; its outputs and layout are the same.

    Args:
        in_channels: channels of each feature map.
        num_anchors: anchors per location of each feature map.
        num_classes: outputs per anchor, background included.
        kernel_size: of every predictor conv (odd; padded to keep the grid).
    """

    def __init__(self, in_channels: list[int], num_anchors: list[int], num_classes: int, *, kernel_size: int = 1):
        super().__init__()

        def predictors(columns: int) -> nn.ModuleList:
            # A one-module Sequential per level, so `level[-1]` is the predictor as in SSDLiteHead.
            return nn.ModuleList(
                nn.Sequential(nn.Conv2d(c, a * columns, kernel_size, padding=kernel_size // 2))
                for c, a in zip(in_channels, num_anchors)
            )

        self.classification_head = SSDScoringHead(predictors(num_classes), num_classes)
        self.regression_head = SSDScoringHead(predictors(4), 4)
        truncated_normal_init(self)

    def forward(self, feature_maps: list[Tensor]) -> dict[str, Tensor]:
        """Feature maps Tensor[B, C_k, H_k, W_k] -> "cls_logits" Tensor[B, A, C], "bbox_regression" Tensor[B, A, 4]."""
        return {
            "bbox_regression": self.regression_head(feature_maps),
            "cls_logits": self.classification_head(feature_maps),
        }
