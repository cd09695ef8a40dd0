"""Everything between files on disk and a batch of tensors. Never imports model code."""
