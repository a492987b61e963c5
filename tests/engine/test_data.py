"""engine.data: the seeds' samples and the generated datasets, deterministic per seed."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data import DATASETS, Dataset, circles, make_dataset, moons, seeds, xor

generated = st.sampled_from([moons, circles, xor])
sizes = st.integers(1, 120)
noises = st.floats(0.0, 0.5)
data_seeds = st.integers(0, 2**32)


def test_the_seeds_four_samples():
    d = seeds()
    assert d.name == "seeds"
    assert d.xs == [[2, 3, -1], [3, -1, 0.5], [0.5, 1, 1], [1, 1, -1]]
    assert d.ys == [1, -1, -1, 1]
    assert d.inputs == 3 and len(d) == 4


def test_the_seeds_samples_are_fresh_lists_each_time():
    d = seeds()
    d.xs[0][0] = 99.0
    assert seeds().xs[0][0] == 2.0


@settings(max_examples=60)
@given(make=generated, n=sizes, noise=noises, seed=data_seeds)
def test_same_seed_same_data(make, n, noise, seed):
    assert make(n, noise, seed) == make(n, noise, seed)


@settings(max_examples=60)
@given(make=generated, seed=data_seeds, other=data_seeds)
def test_different_seeds_give_different_data(make, seed, other):
    if seed != other:
        assert make(50, 0.1, seed).xs != make(50, 0.1, other).xs


@settings(max_examples=60)
@given(make=generated, n=sizes, noise=noises, seed=data_seeds)
def test_shapes_and_labels(make, n, noise, seed):
    d = make(n, noise, seed)
    assert isinstance(d, Dataset) and d.name == make.__name__
    assert len(d.xs) == len(d.ys) == n
    assert all(len(x) == 2 and all(math.isfinite(c) for c in x) for x in d.xs)
    assert set(d.ys) <= {-1.0, 1.0}
    if n >= 2:
        assert set(d.ys) == {-1.0, 1.0}


@settings(max_examples=40)
@given(make=st.sampled_from([moons, circles]), n=sizes, seed=data_seeds)
def test_moons_and_circles_split_the_samples_evenly(make, n, seed):
    ys = make(n, 0.1, seed).ys
    assert ys.count(-1.0) == n // 2
    assert ys.count(1.0) == n - n // 2


def test_moons_without_noise_lie_on_their_arcs():
    d = moons(40, 0.0, seed=3)
    for (x, y), label in zip(d.xs, d.ys):
        if label == -1:  # the upper moon: the top half of the unit circle
            assert x * x + y * y == pytest.approx(1.0) and y >= -1e-12
        else:  # the lower moon: centred on (1, 0.5), bottom half
            assert (x - 1) ** 2 + (y - 0.5) ** 2 == pytest.approx(1.0) and y <= 0.5 + 1e-12


def test_moons_are_shuffled():
    ys = moons(100, 0.1, seed=1).ys
    assert ys != sorted(ys)


def test_circles_without_noise_have_the_two_radii():
    d = circles(30, 0.0, seed=2, factor=0.4)
    for (x, y), label in zip(d.xs, d.ys):
        assert math.hypot(x, y) == pytest.approx(1.0 if label == -1 else 0.4)


def test_xor_without_noise_sits_on_the_corners_and_labels_differing_signs():
    d = xor(20, 0.0, seed=4)
    for (x, y), label in zip(d.xs, d.ys):
        assert abs(x) == 1.0 and abs(y) == 1.0
        assert label == (1.0 if x * y < 0 else -1.0)


def test_noise_moves_the_points():
    clean, noisy = moons(50, 0.0, seed=1), moons(50, 0.2, seed=1)
    assert clean.ys == noisy.ys
    assert clean.xs != noisy.xs


def test_making_data_leaves_global_random_alone():
    random.seed(9)
    state = random.getstate()
    moons(30, 0.1, seed=1)
    circles(30, 0.1, seed=1)
    xor(30, 0.1, seed=1)
    assert random.getstate() == state


@pytest.mark.parametrize("name", DATASETS)
def test_make_dataset_by_name(name):
    d = make_dataset(name, 12, 0.1, 5)
    assert d.name == name
    assert len(d) == (4 if name == "seeds" else 12)


def test_make_dataset_refuses_unknown_names_and_bad_numbers():
    with pytest.raises(ValueError, match="unknown dataset 'spirals'"):
        make_dataset("spirals")
    with pytest.raises(ValueError, match="noise"):
        make_dataset("moons", noise=-0.1)
    with pytest.raises(ValueError, match="at least 1 sample"):
        make_dataset("xor", samples=0)
