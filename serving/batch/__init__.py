"""Offline batch scoring of (claim, text) files: `python -m serving.batch --input IN --output OUT`."""
