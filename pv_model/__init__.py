"""pv-media's shared models, pure: what the collection (pv_assets), the edges (resources), the gallery
(pv_gallery) and the simulated world all agree on - the dialects and their field paths, the station registry,
object keys, ID numbers, URL rules, personal-data masking, photo types, failure categories and the gallery
contract. Nothing here imports the rest of pv-media, touches the network or knows Dagster.
"""
