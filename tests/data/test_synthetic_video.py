import numpy as np
import pytest
import torch
from torchvision.ops import box_convert, box_iou

from ssdlite.data.synthetic_video import moving_scene

CLIP = {"image_size": (90, 160), "scene": "close", "num_frames": 20, "fps": 25}


@pytest.fixture(scope="module")
def clip():
    """Ground truth of a 150-frame clip, 180x320 at 25 fps: [(track_id, category_id, xywh, visibility)] per frame."""
    return [objects for _, objects in moving_scene(3, image_size=(180, 320), scene="close", num_frames=150, fps=25)]


def by_track(clip) -> dict[int, list[tuple[int, list[float], float, int]]]:
    tracks = {}
    for frame, objects in enumerate(clip):
        for track_id, category_id, box, visibility in objects:
            tracks.setdefault(track_id, []).append((frame, box, visibility, category_id))
    return tracks


def test_same_seed_same_ground_truth():
    first = [(objects, image.sum()) for image, objects in moving_scene(3, **CLIP)]
    assert first == [(objects, image.sum()) for image, objects in moving_scene(3, **CLIP)]
    assert first != [(objects, image.sum()) for image, objects in moving_scene(4, **CLIP)]


def test_road_users_keep_their_identity_and_move_smoothly(clip):
    tracks = by_track(clip)
    assert len(tracks) >= 5 and sum(map(len, clip)) / len(clip) >= 2
    for track_id, rows in tracks.items():
        assert len({category_id for *_, category_id in rows}) == 1, track_id  # one class per identity
        boxes = box_convert(torch.tensor([box for _, box, _, _ in rows]), "xywh", "xyxy")
        frames = np.array([frame for frame, *_ in rows])
        consecutive = np.flatnonzero(np.diff(frames) == 1)
        overlap = box_iou(boxes[consecutive], boxes[consecutive + 1]).diagonal()
        # in full view frame to frame (not hidden, not cut by the border), a road user moves a little
        in_view = [visibility == 1 and 0 < box[0] and box[0] + box[2] < 320 for _, box, visibility, _ in rows]
        in_view = np.array([in_view[i] and in_view[i + 1] for i in consecutive], bool)
        assert (overlap[torch.from_numpy(in_view)] > 0.5).all(), track_id


def test_road_users_enter_leave_and_hide_one_another(clip):
    tracks = by_track(clip)
    first_frames = [rows[0][0] for rows in tracks.values()]
    last_frames = [rows[-1][0] for rows in tracks.values()]
    assert max(first_frames) > 0 and min(last_frames) < len(clip) - 1  # some arrive, some leave
    visibilities = [visibility for rows in tracks.values() for _, _, visibility, _ in rows]
    assert min(visibilities) < 0.9  # partly hidden behind a nearer one
    gaps = [np.diff([frame for frame, *_ in rows]).max() for rows in tracks.values() if len(rows) > 1]
    assert max(gaps) > 1  # hidden (or too small) for a while, then seen again under the same id


def test_a_stop_holds_the_picture_and_the_road_moves_on_after_it():
    frames = [
        image for image, _ in moving_scene(3, image_size=(90, 160), scene="close", num_frames=12, fps=10, stop=(0.3, 0.5))
    ]  # frames 3 to 7
    plain = [image for image, _ in moving_scene(3, image_size=(90, 160), scene="close", num_frames=12, fps=10)]
    assert all(np.array_equal(frames[2], frames[index]) for index in range(3, 8))
    assert all(np.array_equal(a, b) for a, b in zip(frames[:3], plain[:3]))
    assert np.array_equal(frames[8], plain[3]) and not np.array_equal(frames[8], frames[7])
