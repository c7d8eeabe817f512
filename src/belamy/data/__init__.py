"""Sources, ingest and the on-disk Collection format."""
