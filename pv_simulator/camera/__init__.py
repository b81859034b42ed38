"""Camera-like photos for the group world: drawn scenes, encoded as a phone or an app would, cached on disk."""
