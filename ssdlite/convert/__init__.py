"""Converters of detectors trained elsewhere (TensorFlow, TFLite) into ssdlite models."""
