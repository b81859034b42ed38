"""`make bench`: pv-media against the seed's sequential loop, in the same run, on the same servers."""
