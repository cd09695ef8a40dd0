"""ssdlite: SSDLite on MobileNetV2, a small and fast object detector (train, evaluate, detect, track, deploy).

Each command is the code its script in tools/ runs (ssdlite train = python tools/train.py);
`ssdlite COMMAND --help` gives its arguments.
"""

import argparse
import importlib
import sys

# command -> (module whose main(argv) runs it, what it does)
COMMANDS = {
    "train": ("ssdlite.commands.train", "train a detector from a config file"),
    "eval": ("ssdlite.commands.eval", "COCO mAP of a checkpoint"),
    "predict": ("ssdlite.commands.predict", "detect objects in images, folders, globs or videos; annotated copies"),
    "track": ("ssdlite.commands.track", "track and count objects in a video"),
    "eval-tracking": ("ssdlite.commands.eval_tracking", "tracking metrics (MOTA, IDF1, HOTA) against MOT ground truth"),
    "export": ("ssdlite.commands.export", "ONNX or OpenVINO files, checked against PyTorch; INT8"),
    "benchmark": ("ssdlite.commands.benchmark", "a checkpoint in every runtime here: latency, throughput and mAP on your data"),
    "convert": ("ssdlite.commands.convert", "other datasets' labels to COCO JSON, other frameworks' detectors to checkpoints"),
    "browse": ("ssdlite.commands.browse", "augmented samples, box statistics and damaged images of a dataset"),
    "make-synthetic": ("ssdlite.commands.make_synthetic", "generate the built-in driving dataset and clip"),
    "frames": ("ssdlite.commands.frames", "frames of your videos to label: train/val images and COCO files without boxes"),
    "import-labels": ("ssdlite.commands.import_labels", "labels from an annotation tool (YOLO, VOC, CVAT, COCO) into COCO JSON"),
    "prelabel": ("ssdlite.commands.prelabel", "pre-label frames or videos with a detector and the tracker, for CVAT"),
}


def main(argv: list[str] | None = None) -> None:
    """The `ssdlite` console command."""
    dispatch("ssdlite", __doc__, COMMANDS, argv)


def dispatch(prog: str, description: str, commands: dict[str, tuple[str, str]], argv: list[str] | None) -> None:
    """Run the command that `argv` (default: `sys.argv[1:]`) names with the arguments after it.

    Args:
        prog: how the command line starts ("ssdlite", "ssdlite convert").
        commands: name -> (module with a `main(argv)`, one line for --help).
    """
    parser = argparse.ArgumentParser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, title="commands")
    for name, (_, summary) in commands.items():
        # The command parses its own arguments: what follows its name reaches it untouched ("\0" is no prefix).
        subparser = subparsers.add_parser(name, help=summary, add_help=False, prefix_chars="\0")
        subparser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = importlib.import_module(commands[args.command][0])
    sys.argv = [f"{prog} {args.command}", *args.args]  # argparse names the program after sys.argv[0]
    command.main(args.args)
