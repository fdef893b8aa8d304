"""The patterns area."""
