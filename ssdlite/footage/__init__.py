"""From a user's own footage to training data: frames of their videos, and labels from annotation tools."""
