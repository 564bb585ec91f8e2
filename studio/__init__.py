"""Occlusion Studio: synthetic face-occlusion data, interactively and in batch."""

__version__ = "0.1.0"
