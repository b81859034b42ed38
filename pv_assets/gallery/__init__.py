"""What a viewer needs from a collection: previews, the gallery pieces and the merged index; their sensor and run."""
