"""Random computation graphs for property tests: every op, with values reused."""

from __future__ import annotations

import math

from hypothesis import assume
from hypothesis import strategies as st

from engine import Value

UNARY = [
    "tanh",
    "exp_small",
    "log_safe",
    "relu",
    "sigmoid",
    "neg",
    "square",
    "cube",
    "recip_safe",
    "sqrt_safe",
]
BINARY = ["+", "-", "*", "/safe", "radd", "rmul", "rsub", "rdiv_safe"]


@st.composite
def recipes(draw, max_leaves=4, max_ops=10):
    """A recipe: leaf values, then ops that each use earlier nodes (the same node may be used twice)."""
    n_leaves = draw(st.integers(1, max_leaves))
    leaves = draw(
        st.lists(
            st.floats(-2, 2, allow_nan=False).map(lambda x: round(x, 3)), min_size=n_leaves, max_size=n_leaves
        )
    )
    ops = []
    size = n_leaves
    for _ in range(draw(st.integers(1, max_ops))):
        if draw(st.booleans()):
            ops.append((draw(st.sampled_from(UNARY)), draw(st.integers(0, size - 1))))
        else:
            i = draw(st.integers(0, size - 1))
            j = draw(st.one_of(st.just(i), st.integers(0, size - 1)))  # reuse on purpose
            ops.append((draw(st.sampled_from(BINARY)), i, j))
        size += 1
    return leaves, ops


def build(recipe, values=None):
    """Replay a recipe; returns (output, {name: leaf}). The output sums every node, so every leaf counts."""
    leaves, ops = recipe
    names = [f"x{i}" for i in range(len(leaves))]
    values = values or dict(zip(names, leaves))
    nodes = [Value(values[n], label=n) for n in names]
    for op, *args in ops:
        a = nodes[args[0]]
        if len(args) == 2:
            b = nodes[args[1]]
            out = {
                "+": lambda: a + b,
                "-": lambda: a - b,
                "*": lambda: a * b,
                "/safe": lambda: a / (b * b + 1),
                "radd": lambda: 1.5 + a,
                "rmul": lambda: -0.5 * b,
                "rsub": lambda: 2 - a,
                "rdiv_safe": lambda: 1 / (a * a + 1),
            }[op]()
        else:
            if op == "relu":
                assume(abs(a.data) > 1e-3)  # no kink within reach of the numeric step
            out = {
                "tanh": lambda: a.tanh(),
                "exp_small": lambda: (a.tanh()).exp(),
                "log_safe": lambda: (a * a + 0.5).log(),
                "relu": lambda: a.relu(),
                "sigmoid": lambda: a.sigmoid(),
                "neg": lambda: -a,
                "square": lambda: a**2,
                "cube": lambda: a**3,
                "recip_safe": lambda: (a * a + 1) ** -1,
                "sqrt_safe": lambda: (a * a + 1) ** 0.5,
            }[op]()
        assume(math.isfinite(out.data) and abs(out.data) < 1e6)
        nodes.append(out)
    total = nodes[0]
    for node in nodes[1:]:
        total = total + node
    total.label = "out"
    return total, {n: node for n, node in zip(names, nodes)}
