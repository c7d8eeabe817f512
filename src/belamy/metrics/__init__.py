"""Image-quality metrics that need no downloaded weights (see `belamy.metrics.swd`)."""
