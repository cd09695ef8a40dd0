"""The Lightning training system around the detector. The only part of ssdlite that needs Lightning."""
