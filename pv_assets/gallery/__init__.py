"""Dagster code of the gallery domain: what the viewer reads besides the index (station health)."""
