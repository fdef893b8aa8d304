"""The cases area."""
