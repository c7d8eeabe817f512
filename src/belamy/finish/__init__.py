"""Finishing a picked render for the wall: the artist's signature and the print file."""
