"""MOT-format ground truth (`gt.txt`) read into per-frame objects, with one-line errors naming the file.

Rows are `frame, id, x, y, w, h, flag, class, visibility` (MOT17's gt.txt): frames
from 1, boxes xywh pixels, rows with flag 0 ignored, class a COCO category id as
the built-in generator writes it (`ssdlite.data.synthetic_video.write_mot`).
"""

from pathlib import Path

import numpy as np
import torch
from torchvision.models.detection import SSDLite320_MobileNet_V3_Large_Weights
from torchvision.ops import box_convert
from trackers import load_mot_file

from ssdlite.errors import InputError
from ssdlite.tracking.metrics import FrameObjects

IGNORED = 0  # the flag column's value for rows that are not scored
# The class column's COCO category ids -> COCO's names; torchvision lists them by id, with gaps.
CATEGORY_NAMES = {
    category_id: name
    for category_id, name in enumerate(SSDLite320_MobileNet_V3_Large_Weights.COCO_V1.meta["categories"])
    if name not in ("__background__", "N/A")
}


def read_ground_truth(path: str | Path, category_names: dict[int, str], num_frames: int) -> list[FrameObjects]:
    """The scored objects of each of `num_frames` frames (index 0 is the file's frame 1).

    Args:
        category_names: the class column's ids -> class names (`CATEGORY_NAMES`: COCO's).

    Raises:
        InputError: the file is missing or malformed, names an unknown class, has a box of no
            area, or a frame past `num_frames`; the message names the file.
    """
    try:
        rows_per_frame = load_mot_file(path)
    except (FileNotFoundError, ValueError) as error:
        raise InputError(f"{path}: not a MOT ground-truth file ({error})") from None
    frames = [FrameObjects(np.zeros(0, int), np.zeros((0, 4)), np.array([], dtype=object)) for _ in range(num_frames)]
    for frame, rows in sorted(rows_per_frame.items()):
        if not 1 <= frame <= num_frames:
            raise InputError(f"{path}: frame {frame} is outside the video's frames 1..{num_frames}")
        if not (np.isfinite(rows.boxes).all() and (rows.boxes[:, 2:] > 0).all()):
            raise InputError(f"{path}: frame {frame} has a box with no area or a non-number")
        unknown = set(rows.classes.tolist()) - set(category_names)
        if unknown:
            raise InputError(
                f"{path}: frame {frame} has class {sorted(unknown)[0]}, which is no known category id; "
                f"the class column holds ids {min(category_names)}..{max(category_names)} (COCO's, with gaps)"
            )
        scored = rows.confidences != IGNORED
        boxes = box_convert(torch.as_tensor(rows.boxes[scored]), "xywh", "xyxy").numpy()
        names = np.array([category_names[int(c)] for c in rows.classes[scored]], dtype=object)
        frames[frame - 1] = FrameObjects(rows.ids[scored].astype(int), boxes, names)
    return frames
