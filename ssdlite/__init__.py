"""ssdlite: SSDLite on MobileNetV2, a small fast object detector."""
