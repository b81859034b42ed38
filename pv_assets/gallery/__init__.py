"""The gallery: previews, gallery pieces and index (Dagster code of that domain)."""
