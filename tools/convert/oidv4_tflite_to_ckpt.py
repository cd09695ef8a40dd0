"""MediaPipe's Open Images V4 SSD-MobileNetV2 (TFLite, in npm's @mediapipe/objectron) to an ssdlite checkpoint:
python tools/convert/oidv4_tflite_to_ckpt.py --out CKPT [--source TGZ | --source FILE.tflite --labels TXT]"""

import argparse
import sys
from pathlib import Path

from ssdlite.assets import AssetError
from ssdlite.convert.tflite_graph import TFLiteError
from ssdlite.convert.tflite_ssd import convert_to_checkpoint, installed_objectron, read_objectron


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="checkpoint to write (written whole or not at all)")
    parser.add_argument("--source", help="the npm tarball (default: the one `make install` fetched) or a bare .tflite")
    parser.add_argument("--labels", help="label map of a bare .tflite, one name a line, background first")
    args = parser.parse_args()
    try:
        source = args.source or str(installed_objectron())
        if source.endswith(".tflite"):
            if not args.labels:
                raise TFLiteError(f"{source} is a bare .tflite: pass its label map with --labels")
            tflite_bytes, labels = Path(source).read_bytes(), Path(args.labels).read_text().splitlines()
        else:
            tflite_bytes, labels = read_objectron(source)
        names = convert_to_checkpoint(tflite_bytes, labels, source, args.out)
    except (TFLiteError, AssetError, OSError) as error:
        sys.exit(f"error: {error}")
    print(f"wrote {args.out}: SSD-MobileNetV2 300x300, {len(names)} classes ({', '.join(names)})")


if __name__ == "__main__":
    main()
