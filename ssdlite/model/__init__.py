"""The detector: backbone, anchors, box coding, matching, losses, post-processing, and its builder.

Plain PyTorch; imports neither Lightning nor data code.
"""

from ssdlite.model.build import build_model
from ssdlite.model.detector import SSDLite

__all__ = ["SSDLite", "build_model"]
