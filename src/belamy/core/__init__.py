"""The bottom layer: what every stage needs and nothing above it may be needed by.

Atomic writes, user-facing errors, seeds, progress, the code version, image grids and
device/precision choice. Modules here import only each other, never a stage.
"""
