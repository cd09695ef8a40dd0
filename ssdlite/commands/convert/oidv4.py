"""MediaPipe's Open Images V4 SSD-MobileNetV2 (TFLite, in npm's @mediapipe/objectron) to an ssdlite checkpoint:
ssdlite convert oidv4 --out CKPT [--source TGZ | --source FILE.tflite --labels TXT]"""

import argparse
from pathlib import Path

from ssdlite.convert.tflite_graph import TFLiteError
from ssdlite.convert.tflite_ssd import convert_to_checkpoint, installed_objectron, read_objectron
from ssdlite.errors import reports_errors


@reports_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="checkpoint to write (written whole or not at all)")
    parser.add_argument("--source", help="the npm tarball (default: the one `make install` fetched) or a bare .tflite")
    parser.add_argument("--labels", help="label map of a bare .tflite, one name a line, background first")
    args = parser.parse_args(argv)
    source = args.source or str(installed_objectron())
    tflite_bytes, labels = read_bare_tflite(source, args.labels) if source.endswith(".tflite") else read_objectron(source)
    names = convert_to_checkpoint(tflite_bytes, labels, source, args.out)
    print(f"wrote {args.out}: SSD-MobileNetV2 300x300, {len(names)} classes ({', '.join(names)})")


def read_bare_tflite(source: str, labels: str | None) -> tuple[bytes, list[str]]:
    """A bare .tflite's bytes and the lines of its label map file."""
    if not labels:
        raise TFLiteError(f"{source} is a bare .tflite: pass its label map with --labels")
    for path in (source, labels):
        if not Path(path).is_file():
            raise TFLiteError(f"{path} does not exist")
    return Path(source).read_bytes(), Path(labels).read_text().splitlines()
