"""pv-media: collect the photos and videos behind distributed-PV infrastructure records."""
