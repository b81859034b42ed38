"""Photos that prove what they show (issue 27): per-photo facts, per-station tables, group findings."""
