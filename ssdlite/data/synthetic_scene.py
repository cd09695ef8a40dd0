"""What the still scenes (`ssdlite.data.synthetic`) and the clip (`ssdlite.data.synthetic_video`) are
both made of: the two scenes, how large a road user is where it stands, and drawing road users far
to near with the box of what each still shows.
"""

import typing

import numpy as np

from ssdlite.config import Scene
from ssdlite.data.synthetic_drawing import SHAPES, SceneObject, draw_object

SCENES = typing.get_args(Scene)
MIN_SIDE = {"footage": 2, "close": 12}  # px: no object drawn smaller than this
# px: visible boxes with a shorter side are not annotated. People are drawn about a
# quarter as wide as tall, so 5 px keeps those from about 19 px tall.
MIN_BOX_SIDE = {"footage": 5, "close": 4}
MIN_VISIBLE = 0.25  # objects more occluded than this are drawn but not annotated
# "footage": the road distance seen on the bottom row and the farthest road user, metres.
NEAR_M, FAR_M = 5.0, 50.0
FOOTAGE_MIX = {1: 0.3, 2: 0.1, 3: 0.3, 4: 0.1, 6: 0.08, 8: 0.12}  # category id: share of road users


def check_scene(scene: str) -> None:
    """Raise ValueError unless `scene` is one of SCENES."""
    if scene not in SCENES:
        raise ValueError(f"unknown synthetic scene {scene!r}; expected one of {', '.join(SCENES)}")


def object_size(obj: SceneObject, horizon: int, height: int, scene: Scene) -> tuple[int, int]:
    """(height, width) in pixels: linear in the distance below the horizon (so 1 / distance on the road)."""
    relative_height, aspect = SHAPES[obj.category_id]
    depth = (obj.ground_y - horizon) / (height - horizon)
    h = max(MIN_SIDE[scene], int(relative_height * height * depth))
    return h, max(MIN_SIDE[scene], int(h * aspect))


def render_objects(
    background: np.ndarray, horizon: int, objects: list[SceneObject], scene: Scene
) -> tuple[np.ndarray, list[tuple[int, list[float], float]]]:
    """Draw objects in list order (far to near). Returns (BGR image, [(index in `objects`, [x, y, w, h], visible
    fraction)]) of the objects that are annotated: at least MIN_VISIBLE of them shows, in a box of at least
    MIN_BOX_SIDE. Boxes are COCO xywh in pixels, tight around what each object still shows.
    """
    image = background.copy()
    height, width = image.shape[:2]
    owner = np.zeros((height, width), np.int32)  # which object each pixel shows (0: background)
    placed = []
    for index, obj in enumerate(objects, start=1):
        h, w = object_size(obj, horizon, height, scene)
        patch, mask = draw_object(obj, h, w)
        x0, y0 = int(obj.x - w / 2), int(obj.ground_y - h)
        # clip the patch to the image
        px0, py0, px1, py1 = max(0, -x0), max(0, -y0), min(w, width - x0), min(h, height - y0)
        if px1 <= px0 or py1 <= py0:
            continue
        region = (slice(y0 + py0, y0 + py1), slice(x0 + px0, x0 + px1))
        visible_mask = mask[py0:py1, px0:px1] > 0
        image[region][visible_mask] = patch[py0:py1, px0:px1][visible_mask]
        owner[region][visible_mask] = index
        placed.append((index, int(visible_mask.sum()), region))
    visible = np.bincount(owner.ravel(), minlength=len(objects) + 1)
    annotated = []
    for index, area, region in placed:
        if area == 0 or visible[index] / area < MIN_VISIBLE:
            continue
        ys, xs = np.nonzero(owner[region] == index)  # the box: tight around what is still visible
        x_min, y_min = int(xs.min()) + region[1].start, int(ys.min()) + region[0].start
        box_w, box_h = int(xs.max()) + region[1].start - x_min + 1, int(ys.max()) + region[0].start - y_min + 1
        if min(box_w, box_h) >= MIN_BOX_SIDE[scene]:
            annotated.append((index - 1, [float(x_min), float(y_min), float(box_w), float(box_h)], float(visible[index] / area)))
    return image, annotated
