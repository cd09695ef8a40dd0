"""Tracking and counting objects in video: ByteTrack (the `trackers` package) over the `Detector`'s
detections, line counting (supervision's `LineZone`), MOT ground truth and tracking metrics."""

from ssdlite.tracking.counting import LineCounter
from ssdlite.tracking.tracker import Tracker, Tracks, track

__all__ = ["LineCounter", "Tracker", "Tracks", "track"]
