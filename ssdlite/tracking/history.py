"""What is known of each track so far: its recent path (the trail drawn on the video) and the
summary written to tracks.csv."""

import csv
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssdlite.tracking.tracker import Tracks

TRAIL_FRAMES = 20  # a trail shows where a track stood in its last 20 frames
CSV_COLUMNS = ("track_id", "class_name", "first_frame", "last_frame", "frames_seen", "mean_score")


@dataclass
class TrackRecord:
    first_frame: int
    last_frame: int
    frames_seen: int = 0  # frames on which a detection was matched to the track
    score_sum: float = 0.0  # of those detections
    class_votes: Counter = field(default_factory=Counter)  # class name -> frames seen as it
    trail: deque = field(default_factory=lambda: deque(maxlen=TRAIL_FRAMES))  # (x, y) box bottom centres


class TrackHistory:
    """Accumulates `Tracks` frame after frame."""

    def __init__(self):
        self.records: dict[int, TrackRecord] = {}

    def add(self, tracks: Tracks) -> None:
        bottom_centres = np.stack([(tracks.boxes[:, 0] + tracks.boxes[:, 2]) / 2, tracks.boxes[:, 3]], axis=1)
        for track_id, name, score, predicted, point in zip(
            tracks.track_ids, tracks.class_names, tracks.scores, tracks.predicted, bottom_centres
        ):
            record = self.records.setdefault(int(track_id), TrackRecord(tracks.frame, tracks.frame))
            record.last_frame = tracks.frame
            record.trail.append((float(point[0]), float(point[1])))
            if not predicted:
                record.frames_seen += 1
                record.score_sum += float(score)
                record.class_votes[name] += 1

    def trail(self, track_id: int) -> list[tuple[float, float]]:
        """The bottom centres of the track's boxes in its last TRAIL_FRAMES frames, oldest first."""
        return list(self.records[int(track_id)].trail)

    def summary(self) -> list[dict]:
        """One row per track, by id: class (the one it was detected as most), first and last frame
        (0-based), frames seen (with a matched detection) and the mean score of those detections."""
        return [
            {
                "track_id": track_id,
                "class_name": record.class_votes.most_common(1)[0][0],
                "first_frame": record.first_frame,
                "last_frame": record.last_frame,
                "frames_seen": record.frames_seen,
                "mean_score": round(record.score_sum / record.frames_seen, 4),
            }
            for track_id, record in sorted(self.records.items())
        ]

    def tracks_per_class(self) -> dict[str, int]:
        """How many tracks each class has (a track's class is the one it was detected as most)."""
        return dict(Counter(row["class_name"] for row in self.summary()).most_common())

    def write_csv(self, path: Path) -> None:
        with open(path, "w", newline="") as file:
            writer = csv.DictWriter(file, CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(self.summary())
