"""Small random profiles for property and differential tests (imported by the tally tests)."""

import numpy as np

from councils.tally import Profile


def random_profile(rng: np.random.Generator, m: int, n: int, *, truncate: bool = True) -> Profile:
    """n ballots over m options, drawn so that some orders repeat and margins vary."""
    weights = rng.dirichlet(np.ones(m) * 0.7)
    orders = np.full((n, m), -1, dtype=np.int64)
    for b in range(n):
        order = rng.choice(m, size=m, replace=False, p=weights)
        length = int(rng.integers(1, m + 1)) if truncate else m
        orders[b, :length] = order[:length]
    return Profile.from_orders([chr(65 + i) for i in range(m)], orders)
