"""Running a trained detector: the `Detector`, image and video annotation, drawing, ONNX export, speed."""

from ssdlite.inference.predictor import Detections, Detector

__all__ = ["Detections", "Detector"]
