"""Near-duplicate search over 64-bit perceptual hashes: a BK-tree under the Hamming distance - pure.

A BK-tree keeps, under each node, its children by their distance to it; a search for everything within r
of a hash visits only the children whose distance d to the node has |d - d(query, node)| <= r (the triangle
inequality). Unrelated photos' hashes sit about 32 bits apart, so a search for r = 8 prunes most of the tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


class BKTree:
    """Hashes with a payload each; `within(h, r)` yields (payload, distance) of every hash at most r from h."""

    def __init__(self) -> None:
        self._root: list | None = None  # [hash, payloads, {distance: child}]
        self.size = 0

    def add(self, value: int, payload) -> None:
        self.size += 1
        if self._root is None:
            self._root = [value, [payload], {}]
            return
        node = self._root
        while True:
            distance = hamming(value, node[0])
            if distance == 0:
                node[1].append(payload)
                return
            child = node[2].get(distance)
            if child is None:
                node[2][distance] = [value, [payload], {}]
                return
            node = child

    def within(self, value: int, radius: int) -> Iterator[tuple[object, int]]:
        if self._root is None:
            return
        stack = [self._root]
        while stack:
            node = stack.pop()
            distance = hamming(value, node[0])
            if distance <= radius:
                for payload in node[1]:
                    yield payload, distance
            for edge, child in node[2].items():
                if distance - radius <= edge <= distance + radius:
                    stack.append(child)


def near_pairs(hashes: Iterable[tuple[object, int]], radius: int) -> list[tuple[object, object, int]]:
    """Every pair (a, b, distance) of the given (payload, hash) within `radius`, each pair once."""
    tree = BKTree()
    pairs = []
    for payload, value in hashes:
        pairs.extend((other, payload, distance) for other, distance in tree.within(value, radius))
        tree.add(value, payload)
    return pairs


def brute_force_pairs(hashes: list[tuple[object, int]], radius: int) -> list[tuple[object, object, int]]:
    """The same pairs by comparing every hash with every other: the yardstick for the index."""
    pairs = []
    for i, (a, ha) in enumerate(hashes):
        for b, hb in hashes[i + 1 :]:
            distance = hamming(ha, hb)
            if distance <= radius:
                pairs.append((a, b, distance))
    return pairs
