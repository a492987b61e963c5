"""Small datasets for binary classification, made in pure Python from a seed.

Each function returns a `Dataset`: ``xs`` (one list of numbers per sample), ``ys`` (one target
per sample, ``+1`` or ``-1``) and a ``name``. The same seed always gives the same data, and
Python's global ``random`` state is never touched.

* `seeds`: the four samples of the seeds' notebook, three inputs each;
* `moons`: two interleaving half circles, like scikit-learn's ``make_moons``
  (the lower, inner moon is ``+1``);
* `circles`: a small circle inside a larger one (the inner circle is ``+1``);
* `xor`: four clouds at the corners of a square, ``+1`` where the two inputs have different
  signs: no single straight line separates the classes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

__all__ = ["Dataset", "DATASETS", "seeds", "moons", "circles", "xor", "make_dataset"]


@dataclass(frozen=True)
class Dataset:
    name: str
    xs: list[list[float]]
    ys: list[float]

    @property
    def inputs(self) -> int:
        """How many numbers describe one sample."""
        return len(self.xs[0])

    def __len__(self) -> int:
        return len(self.xs)


def seeds() -> Dataset:
    """The seeds' four samples: three inputs each, targets +1, -1, -1, +1."""
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    return Dataset("seeds", xs, ys)


def _evenly(start: float, stop: float, n: int) -> list[float]:
    """n numbers from start to stop inclusive, evenly spaced (numpy's linspace)."""
    if n == 1:
        return [start]
    return [start + (stop - start) * i / (n - 1) for i in range(n)]


def _finish(name, points, labels, noise, rng) -> Dataset:
    """Shuffle the samples, then jitter every coordinate by Gaussian noise of std ``noise``."""
    order = list(range(len(points)))
    rng.shuffle(order)
    xs = [[c + rng.gauss(0.0, noise) for c in points[i]] for i in order]
    ys = [labels[i] for i in order]
    return Dataset(name, xs, ys)


def moons(samples: int = 100, noise: float = 0.1, seed: int = 1) -> Dataset:
    """Two interleaving half circles (as in ``sklearn.datasets.make_moons``).

    The upper moon (``-1``) is the top half of the unit circle; the lower moon (``+1``) is the
    same arc turned upside down and moved right by 1 and down by 0.5.
    """
    rng = random.Random(seed)
    n_upper = samples // 2
    n_lower = samples - n_upper
    upper = [[math.cos(t), math.sin(t)] for t in _evenly(0.0, math.pi, n_upper)]
    lower = [[1 - math.cos(t), 0.5 - math.sin(t)] for t in _evenly(0.0, math.pi, n_lower)]
    return _finish("moons", upper + lower, [-1.0] * n_upper + [1.0] * n_lower, noise, rng)


def _on_circle(radius: float, turn: float) -> list[float]:
    """The point ``turn`` of the way round a circle of ``radius`` about the origin."""
    angle = 2 * math.pi * turn
    return [radius * math.cos(angle), radius * math.sin(angle)]


def circles(samples: int = 100, noise: float = 0.05, seed: int = 1, factor: float = 0.5) -> Dataset:
    """A circle of radius ``factor`` (``+1``) inside the unit circle (``-1``)."""
    rng = random.Random(seed)
    n_outer = samples // 2
    n_inner = samples - n_outer
    outer = [_on_circle(1.0, i / n_outer) for i in range(n_outer)]
    inner = [_on_circle(factor, i / n_inner) for i in range(n_inner)]
    return _finish("circles", outer + inner, [-1.0] * n_outer + [1.0] * n_inner, noise, rng)


def xor(samples: int = 100, noise: float = 0.1, seed: int = 1) -> Dataset:
    """Clouds around the corners (±1, ±1); ``+1`` where the signs differ (x XOR y)."""
    rng = random.Random(seed)
    corners = [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
    points = [list(corners[i % 4]) for i in range(samples)]
    labels = [1.0 if x * y < 0 else -1.0 for x, y in points]
    return _finish("xor", points, labels, noise, rng)


DATASETS = ("seeds", "moons", "circles", "xor")


def make_dataset(name: str, samples: int = 100, noise: float = 0.1, seed: int = 1) -> Dataset:
    """The dataset called ``name`` (the seeds' data ignores samples, noise and seed)."""
    if name == "seeds":
        return seeds()
    makers = {"moons": moons, "circles": circles, "xor": xor}
    if name not in makers:
        raise ValueError(f"unknown dataset {name!r}; use one of {', '.join(DATASETS)}")
    if samples < 1:
        raise ValueError("a dataset needs at least 1 sample")
    if noise < 0:
        raise ValueError("noise is a standard deviation: it cannot be negative")
    return makers[name](samples=samples, noise=noise, seed=seed)
