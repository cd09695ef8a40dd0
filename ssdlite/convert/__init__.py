"""Converting detectors trained elsewhere into ssdlite checkpoints.

`tf_graph` reads a TensorFlow frozen graph (a `GraphDef` `.pb`) without TensorFlow;
`tf_ssdlite` maps the TF Object Detection API's SSDLite-MobileNetV2 onto `SSDLite`.
"""
