"""Provenance: keys, the provenance record, XMP, C2PA and verification."""
