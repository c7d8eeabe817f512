"""Refine: super-resolution and the brush layer."""
