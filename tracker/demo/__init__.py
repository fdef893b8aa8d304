"""Generated demo and benchmark data (`tracker demo`)."""
