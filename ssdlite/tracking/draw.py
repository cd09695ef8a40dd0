"""Drawing tracks (boxes with ids, trails) and a counting line with its running counts on BGR frames."""

import cv2
import numpy as np

from ssdlite.inference.draw import colour_of, draw_boxes
from ssdlite.tracking.history import TrackHistory
from ssdlite.tracking.tracker import Tracks

LINE_COLOUR = (0, 255, 255)


def draw_tracks(image: np.ndarray, tracks: Tracks, history: TrackHistory) -> np.ndarray:
    """Boxes captioned '#id class score' and each track's trail, in the track's colour; in place, returns the image."""
    colours = [colour_of(int(track_id) + 1) for track_id in tracks.track_ids]
    for track_id, colour in zip(tracks.track_ids, colours):
        trail = np.round(history.trail(track_id)).astype(np.int32)
        cv2.polylines(image, [trail.reshape(-1, 1, 2)], False, colour, 2, cv2.LINE_AA)
    captions = [
        f"#{track_id} {name} {score:.2f}" for track_id, name, score in zip(tracks.track_ids, tracks.class_names, tracks.scores)
    ]
    return draw_boxes(image, tracks.boxes, captions, colours)


def draw_count_line(image: np.ndarray, line: tuple[float, float, float, float], counts: dict[str, dict[str, int]]) -> np.ndarray:
    """The counting line and, top left, the counts so far ('car in 2 out 1' per class); in place, returns the image."""
    x1, y1, x2, y2 = (int(round(v)) for v in line)
    cv2.line(image, (x1, y1), (x2, y2), LINE_COLOUR, 2, cv2.LINE_AA)
    lines = [f"{name} in {n['in']} out {n['out']}" for name, n in counts.items()] or ["no crossings yet"]
    for row, text in enumerate(lines):
        origin = (8, 20 + 18 * row)
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.5, LINE_COLOUR, 1, cv2.LINE_AA)
    return image
