"""The gallery: a read-only web viewer over the gallery index and previews (`pv-media gallery`).

Importing the package stays cheap (the Dagster assets import `gallery_station_url`); the web
app lives in pv_gallery.app and is built by pv_gallery.server.
"""

from pv_gallery.links import gallery_station_url

__all__ = ["gallery_station_url"]
