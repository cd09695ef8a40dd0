"""Converting detectors trained elsewhere (TensorFlow, TFLite) into ssdlite checkpoints.

`tf_graph` reads a TensorFlow frozen graph (a `GraphDef` `.pb`) without TensorFlow and
`tf_ssdlite` maps the TF Object Detection API's SSDLite-MobileNetV2 onto `SSDLite`;
`tflite_graph` and `tflite_ssd` do the same for an SSD-MobileNetV2 TFLite file;
`tf_layout` holds what both share (TF's weight layouts and box order).
"""
