"""The pleadings area."""
