"""Previews and the gallery index: plan.py and gallery.py decide (pure), render.py decodes and
encodes (Pillow, pi-heif, PyAV), builder.py and gallery_store.py read and write the store."""
