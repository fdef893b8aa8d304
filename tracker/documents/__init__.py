"""The documents area."""
