"""engine.Value: the seeds' numbers, every op against the numeric gradient, order and memory."""

import gc
import math
import subprocess
import sys
import weakref

import pytest
from hypothesis import given, settings

from engine import Value, topological_order
from engine.gradcheck import check_gradients, numeric_derivative
from tests.engine.graphs import build, recipes


def seeds_expression():
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    f = Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return dict(a=a, b=b, c=c, d=d, e=e, f=f, L=L)


def test_numeric_slope_of_the_seeds_polynomial():
    slope = numeric_derivative(lambda x: 3 * x**2 - 4 * x + 5, 3.0, h=0.0001)
    assert slope == pytest.approx(14.0003, abs=1e-6)
    assert numeric_derivative(lambda x: 3 * x**2 - 4 * x + 5, 3.0, h=0.0001, central=True) == pytest.approx(
        14.0
    )


def test_seeds_expression_forward_and_backward():
    v = seeds_expression()
    assert v["L"].data == -8.0
    v["L"].backward()
    grads = {k: n.grad for k, n in v.items()}
    assert grads == {"a": 6.0, "b": -4.0, "c": -2.0, "d": -2.0, "e": -2.0, "f": 4.0, "L": 1.0}


def test_reuse_accumulates():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0


def test_operands_are_a_tuple_in_operand_order():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    assert (b * a)._prev == (b, a)
    assert (a + a)._prev == (a, a)
    assert isinstance((a - b)._prev, tuple)


def test_repr_shows_data_and_grad():
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(2.0, label="a")) == "Value(data=2.0, grad=0.0, label='a')"


@pytest.mark.parametrize(
    "make, data, grad",
    [
        (lambda x: x + 2, 5.0, 1.0),
        (lambda x: 2 + x, 5.0, 1.0),
        (lambda x: x - 2, 1.0, 1.0),
        (lambda x: 2 - x, -1.0, -1.0),
        (lambda x: x * 4, 12.0, 4.0),
        (lambda x: 4 * x, 12.0, 4.0),
        (lambda x: x / 2, 1.5, 0.5),
        (lambda x: 6 / x, 2.0, -6 / 9),
        (lambda x: -x, -3.0, -1.0),
        (lambda x: x**2, 9.0, 6.0),
        (lambda x: x**0.5, math.sqrt(3), 0.5 / math.sqrt(3)),
        (lambda x: x.exp(), math.exp(3), math.exp(3)),
        (lambda x: x.log(), math.log(3), 1 / 3),
        (lambda x: x.tanh(), math.tanh(3), 1 - math.tanh(3) ** 2),
        (lambda x: x.relu(), 3.0, 1.0),
        (lambda x: (-x).relu(), 0.0, 0.0),
        (lambda x: x.sigmoid(), 1 / (1 + math.exp(-3)), math.exp(-3) / (1 + math.exp(-3)) ** 2),
    ],
)
def test_each_op_forward_and_local_rule(make, data, grad):
    x = Value(3.0)
    y = make(x)
    y.backward()
    assert y.data == pytest.approx(data, rel=1e-12)
    assert x.grad == pytest.approx(grad, rel=1e-12)


def test_sigmoid_does_not_overflow():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: Value(0.0).log(), ValueError),
        (lambda: Value(-1.0).log(), ValueError),
        (lambda: Value(0.0) ** -1, ZeroDivisionError),
        (lambda: Value(-8.0) ** 0.5, ValueError),
        (lambda: Value(1000.0).exp(), OverflowError),
        (lambda: Value(2.0) ** Value(2.0), TypeError),
    ],
)
def test_bad_operations_raise_plain_errors(make, error):
    with pytest.raises(error):
        make()


@settings(max_examples=150, deadline=None)
@given(recipes())
def test_random_graphs_agree_with_the_numeric_gradient(recipe):
    leaves, _ = recipe
    inputs = {f"x{i}": v for i, v in enumerate(leaves)}
    for check in check_gradients(lambda vals: build(recipe, vals), inputs, h=1e-6, tolerance=1e-4):
        assert check.ok, check


def test_a_chain_of_a_million_nodes_backpropagates():
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y + 0.0
    y.backward()
    assert x.grad == 1.0
    assert len(topological_order(y)) == 2_000_001  # each + also has its constant 0.0


def test_graphs_are_freed_without_the_cycle_collector():
    gc.disable()
    try:
        a = Value(1.0)
        out = ((a * 2).tanh() + a.exp() - a / 3).relu() ** 2
        out.backward()
        ref = weakref.ref(out)
        inner = weakref.ref(out._prev[0])
        del out
        assert ref() is None and inner() is None
    finally:
        gc.enable()


ORDER_SCRIPT = """
from engine import Value, topological_order
xs = [Value(float(i), label=f"x{i}") for i in range(6)]
h = [(xs[i] * xs[(i + 1) % 6] + xs[(i * 7) % 6]).tanh() for i in range(6)]
h[0].label = "h0"
out = sum(h[1:], h[0]) * h[2]
print(" ".join(n.label or n._op for n in topological_order(out)))
"""


def test_backward_order_is_the_same_in_every_process():
    outputs = set()
    for seed in ("0", "1", "12345"):
        result = subprocess.run(
            [sys.executable, "-c", ORDER_SCRIPT],
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1


def test_a_node_is_one_object_for_the_cycle_collector():
    # its operands live in the Value's own slots; _prev is made when asked (here: never)
    gc.collect()
    before = len(gc.get_objects())
    x = Value(0.5)
    for _ in range(1000):
        x = (x * 0.5 + 1.0).tanh()
    after = len(gc.get_objects())
    # 3,000 op nodes, 2,000 constants, 1 input: one tracked object each (nothing else kept)
    assert after - before <= 5001 + 10
    assert x._prev[0]._prev[1]._prev == () and x._prev[0]._op == "+"


def build_topo(root):
    """micrograd's own walk, recursive, as its Value.backward writes it."""
    topo, visited = [], set()

    def visit(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                visit(child)
            topo.append(v)

    visit(root)
    return topo


def test_topological_order_is_micrographs_recursive_walk():
    # the walk reads the operand slots; the order must stay that of micrograd's build_topo
    import random

    rng = random.Random(7)
    for _ in range(300):
        pool = [Value(rng.random()) for _ in range(rng.randint(1, 4))]
        for _ in range(rng.randint(0, 25)):
            r = rng.random()
            if r < 0.4:
                pool.append(rng.choice(pool) + rng.choice(pool))
            elif r < 0.7:
                pool.append(rng.choice(pool) * rng.choice(pool))
            elif r < 0.85:
                pool.append(rng.choice(pool).tanh())
            else:
                pool.append(rng.choice(pool) + 1.5)
        root = rng.choice(pool[-3:])
        assert [id(v) for v in topological_order(root)] == [id(v) for v in build_topo(root)]


@settings(max_examples=200, deadline=None)
@given(recipes(max_leaves=5, max_ops=30))
def test_topological_order_is_build_topo_on_graphs_of_every_op(recipe):
    # every op, values reused (a + a, a node feeding many), operands already walked or not
    out, _ = build(recipe)
    assert [id(v) for v in topological_order(out)] == [id(v) for v in build_topo(out)]


def _chain(n):
    x = Value(0.5)
    for _ in range(n):
        x = x + 1.0
    return x


def _wide(n):  # most nodes' operands are walked already when the walk reaches them
    x = Value(0.5)
    squares = [x * x for _ in range(n)]
    total = squares[0]
    for s in squares[1:]:
        total = total + s
    return total


def _layers(n):  # a neuron's sums over inputs shared by every neuron
    xs = [Value(0.1 * i) for i in range(8)]
    for _ in range(n):
        xs = [sum((w * x for w, x in zip(xs, xs[k:] + xs[:k])), Value(0.0)).tanh() for k in range(8)]
    return sum(xs, Value(0.0))


@pytest.mark.parametrize(
    ("make", "n"), [(_chain, 30_000), (_wide, 15_000), (_layers, 150)], ids=["chain", "wide", "layers"]
)
def test_the_walk_is_asked_to_stop_every_few_thousand_values_placed(make, n):
    from engine.cancel import CHECK_EVERY, Cancelled

    graph = make(n)
    asked = []
    order = topological_order(graph, should_stop=lambda: asked.append(1) and False)
    assert len(order) == len(set(order))  # every value once (the order itself: the tests above)
    assert len(asked) >= len(order) // CHECK_EVERY - 1
    with pytest.raises(Cancelled):
        topological_order(graph, should_stop=lambda: True)
