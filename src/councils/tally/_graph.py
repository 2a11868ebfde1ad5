"""Dense directed graphs of many options, in numpy: strong components and the order they make.

Schulze and ranked pairs over thousands of options never run a cubic loop over all of them: a majority that
is not part of a cycle decides by itself, so both methods work on the strong components of the majority graph
(most of them single options in real elections) and only look inside the components that hold cycles. The
functions here take a boolean adjacency matrix (``adj[a, b]``: an edge a -> b) and cost about the square of the
options, each step a vectorised pass over one row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np


def components(adj: np.ndarray, into: np.ndarray | None = None) -> np.ndarray:
    """Strong components of a dense digraph, numbered in a topological order of their condensation (component 0
    has no edge into it from another). Kosaraju's two passes: a depth-first search that finds the next unvisited
    successor of a node with one vectorised scan of its row, then searches of the transposed graph in reverse
    finishing order. ``into``, the transposed matrix, where the caller has it already."""
    s = len(adj)
    visited = np.zeros(s, dtype=bool)
    finished: list[int] = []
    for root in range(s):
        if visited[root]:
            continue
        visited[root] = True
        stack = [root]
        while stack:
            v = stack[-1]
            row = adj[v] & ~visited
            nxt = int(row.argmax())
            if row[nxt]:
                visited[nxt] = True
                stack.append(nxt)
            else:
                finished.append(stack.pop())
    if into is None:
        into = np.ascontiguousarray(adj.T)
    label = np.full(s, -1, dtype=np.intp)
    comp = 0
    for v in reversed(finished):
        if label[v] >= 0:
            continue
        label[v] = comp
        frontier = np.array([v])
        while len(frontier):
            reached = into[frontier].any(axis=0) & (label < 0)
            frontier = np.flatnonzero(reached)
            label[frontier] = comp
        comp += 1
    return label


def members(label: np.ndarray) -> list[np.ndarray]:
    """The nodes of each component, in index order, by component number."""
    order = np.argsort(label, kind="stable")
    cuts = np.flatnonzero(np.diff(label[order])) + 1
    return np.split(order, cuts) if len(order) else []


def levels_and_below(n: int, topo: np.ndarray, successors: Callable[[int], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """For a strict partial order on ``n`` nodes given by a generating acyclic graph: each node's level (1 for the
    nodes nothing is above; else one more than the highest level above it: the levels peeling off the unbeaten
    gives) and how many nodes lie below it (the order's own relation, the transitive closure of the graph).

    ``topo`` lists the nodes so that every edge goes forward; ``successors(x)`` is a boolean mask of nodes x has an
    edge to (any set between x's direct edges and everything below x). The closure is kept as bit rows; a node's
    row is the union of its successors' rows, taking first the successor that comes earliest (whose row covers most
    of the others) and then, at once, only those not already covered, each distinct row once (rows are told apart
    by a 64-bit BLAKE2b digest: two different rows of one count share one with odds below 1 in 10^11)."""
    pos = np.empty(n, dtype=np.intp)
    pos[topo] = np.arange(n)
    width = (n + 63) // 64 * 8
    rows = np.zeros((n, width), dtype=np.uint8)
    below = np.zeros(n, dtype=np.int64)
    digest = np.zeros(n, dtype=np.int64)

    def unpack(bits: np.ndarray) -> np.ndarray:
        return np.unpackbits(bits, count=n, bitorder="little").view(bool)

    for x in topo[::-1].tolist():
        mask = successors(x)
        succ = np.flatnonzero(mask)
        if not len(succ):
            continue
        first = int(succ[np.argmin(pos[succ])])
        reach = unpack(rows[first])
        reach[first] = True
        rest = succ[~reach[succ]]
        if len(rest):
            rest = rest[np.unique(digest[rest], return_index=True)[1]]
            union = np.bitwise_or.reduce(rows[rest].view(np.uint64), axis=0).view(np.uint8)
            reach |= unpack(union)
            reach |= mask
        rows[x] = _pack(reach, width)
        digest[x] = int.from_bytes(hashlib.blake2b(rows[x].tobytes(), digest_size=8).digest(), "little", signed=True)
        below[x] = int(np.count_nonzero(reach))
    # Levels, from the top: everything below a node is at least one level lower.
    level = np.ones(n, dtype=np.int64)
    for x in topo.tolist():
        if below[x]:
            np.maximum(level, np.where(unpack(rows[x]), level[x] + 1, 1), out=level)
    return level, below


def _pack(mask: np.ndarray, width: int) -> np.ndarray:
    packed = np.packbits(mask, bitorder="little")
    if len(packed) < width:
        packed = np.concatenate([packed, np.zeros(width - len(packed), dtype=np.uint8)])
    return packed


def level_lists(level: np.ndarray, names) -> list[list[str]]:
    """Names grouped by level, best first, each group in the options' order."""
    order = np.argsort(level, kind="stable")
    cuts = np.flatnonzero(np.diff(level[order])) + 1
    return [[names[i] for i in group] for group in np.split(order, cuts)] if len(order) else []
