"""A station's collection, from its token to the uploaded media: the assets, their checks and the pure
steps they call (the records fetch, the record table, the manifest rows, staging, unchanged-detection)."""
