"""Pure logic of the collection, no I/O: URL lists, media sniffing, object keys, ID masking.

Everything here takes values and returns values, so it is tested without any server.
"""
