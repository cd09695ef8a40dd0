"""Tracking a video file: the annotated video (ids, trails, the counting line), tracks.jsonl,
tracks.csv and summary.json."""

import json
import logging
from pathlib import Path

from tqdm import tqdm

from ssdlite.inference.predictor import Detector
from ssdlite.tracking.counting import LineCounter
from ssdlite.tracking.draw import draw_count_line, draw_tracks
from ssdlite.tracking.history import TrackHistory
from ssdlite.tracking.tracker import Tracker, track_frame
from ssdlite.video import Video, open_video_writer

log = logging.getLogger(__name__)


def track_video(
    detector: Detector,
    video: Video,
    out_dir: Path,
    every: int = 1,
    count_line: tuple[float, float, float, float] | None = None,
    tracker_args: dict | None = None,
    **predict_args,
) -> dict:
    """Track the objects of a video or stream and write, in `out_dir` (Ctrl-C ends it there, every output complete):

    - `<name>.mp4`: the video (its frame rate and size) with each track's box, '#id class score',
      its trail, and the counting line with the counts so far;
    - `tracks.jsonl`: one record per frame (`Tracks.to_dict`), `tracks.csv` one per track;
    - `summary.json`: the returned summary.

    Args:
        video: from `ssdlite.video.read_video` or `open_stream`.
        every: detect on every Nth frame; the tracker predicts the frames in between.
        count_line: (x1, y1, x2, y2) pixels: count the tracks crossing it (`LineCounter`).
        tracker_args: for `Tracker` (besides the frame rate, the video's).
        predict_args: for `Detector.predict`.

    Returns:
        {"source", "frames", "fps", "fps_assumed", "every", "tracks", "tracks_per_class", the frames read and
        expected (`FrameTally.summary`: a damaged file is tracked as far as it decodes), and "count_line", "counts"}.

    Raises:
        ValueError: the line lies outside the frame.
    """
    counter = LineCounter(count_line, video.image_size) if count_line else None
    tracker = Tracker(video.fps, **(tracker_args or {}))
    history = TrackHistory()
    out_dir.mkdir(parents=True, exist_ok=True)
    num_frames = _track_frames(detector, video, tracker, history, counter, out_dir, every, predict_args)
    history.write_csv(out_dir / "tracks.csv")
    summary = {
        "source": str(video.path),
        "frames": num_frames,
        "fps": video.fps,
        "fps_assumed": not video.fps_known,
        "every": every,
        "tracks": len(history.records),
        "tracks_per_class": history.tracks_per_class(),
    } | video.tally.summary()
    if counter:
        summary |= {"count_line": list(counter.line), "counts": counter.counts()}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _track_frames(
    detector: Detector,
    video: Video,
    tracker: Tracker,
    history: TrackHistory,
    counter: LineCounter | None,
    out_dir: Path,
    every: int,
    predict_args: dict,
) -> int:
    """Track every frame, writing the annotated video and tracks.jsonl. Returns the number of frames."""
    height, width = video.image_size
    writer = open_video_writer(out_dir / f"{video.path.stem}.mp4", video.fps, (width, height))
    num_frames = 0
    with open(out_dir / "tracks.jsonl", "w") as records, tqdm(total=video.num_frames, unit="frame") as progress:
        try:
            for frame in video.frames:
                tracks = track_frame(detector, tracker, frame, video.tally.last, every, bgr=True, **predict_args)
                tracks.source = str(video.path)
                history.add(tracks)
                records.write(json.dumps(tracks.to_dict()) + "\n")
                annotated = draw_tracks(frame, tracks, history)
                if counter:
                    counter.update(tracks.boxes, tracks.track_ids, tracks.class_names)
                    draw_count_line(annotated, counter.line, counter.counts())
                writer.write(annotated)
                num_frames += 1
                progress.update()
        except KeyboardInterrupt:
            log.warning("stopped by Ctrl-C after %d frames of %s", num_frames, video.path)
    writer.release()
    return num_frames
