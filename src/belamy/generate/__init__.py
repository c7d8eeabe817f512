"""Generating from a trained Run: samples, series, interpolation, projection, video.

A stage: it builds on `belamy.models`, `belamy.data` and `belamy.core` only (never on training,
metrics, api or cli; a check such as originality comes in as a callback). Inside, modules import
one way, lowest first: similarity, video, latent_files, records -> latents -> sample ->
series, bookmarks, mixing, interpolate, project -> morph -> rerender.
"""
