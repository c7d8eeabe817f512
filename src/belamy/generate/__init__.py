"""Generating from a trained Run: samples, series, interpolation, projection, video."""
