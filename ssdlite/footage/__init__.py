"""From a folder of footage to training data: frames, label import and pre-labelling."""
