"""tutor.rule_code: a learner's backward rule read with ast and run by the whitelisted interpreter."""

from __future__ import annotations

import ast
import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.value import Value
from tutor.rule_code import RuleError, read_rule, signature


class Node:
    """A node as a rule sees it: data, grad, its operands and its argument."""

    def __init__(self, data, grad=0.0, prev=(), arg=None):
        self.data, self.grad, self._prev, self._arg = data, grad, tuple(prev), arg


def test_a_rule_runs_on_engine_nodes_as_the_engine_rule_does():
    for op, make in [("tanh", lambda x, y: x.tanh()), ("*", lambda x, y: x * y), ("/", lambda x, y: x / y)]:
        body = {
            "tanh": "    self.grad += (1 - out.data**2) * out.grad\n",
            "*": "    self.grad += other.data * out.grad\n    other.grad += self.data * out.grad\n",
            "/": "    self.grad += (1 / other.data) * out.grad\n"
            "    other.grad += (-self.data / other.data**2) * out.grad\n",
        }[op]
        rule = read_rule(signature(op) + body, op)
        mine, theirs = [(Value(0.7), Value(-1.3)) for _ in range(2)]
        for (a, b), run in ((mine, rule.run), (theirs, None)):
            out = make(a, b)
            out.grad = -2.5
            a.grad, b.grad = 0.25, 0.5
            (run or out._grad_fn)(out)
        assert [v.grad for v in mine] == [v.grad for v in theirs]


def test_pow_and_leaky_relu_read_their_argument():
    x = Value(1.5)
    out = x**3
    out.grad = 2.0
    read_rule(signature("**") + "    self.grad += k * self.data ** (k - 1) * out.grad\n", "**").run(out)
    assert x.grad == pytest.approx(3 * 1.5**2 * 2.0)
    y = Value(-2.0)
    out = y.leaky_relu(0.1)
    out.grad = 1.0
    read_rule(signature("leaky_relu") + "    self.grad += (1 if self.data > 0 else slope) * out.grad\n").run(
        out
    )
    assert y.grad == pytest.approx(0.1)


def test_a_micrograd_style_rule_with_locals_docstring_and_staticmethod():
    text = (
        "@staticmethod\n"
        "def _tanh_backward(out):\n"
        '    """d tanh = 1 - t**2"""\n'
        "    (self,) = out._prev\n"
        "    t = out.data\n"
        "    local = 1 - t**2\n"
        "    local *= 1.0\n"
        "    self.grad += local * out.grad  # the chain rule\n"
    )
    x = Node(0.3, grad=1.0)
    out = Node(math.tanh(0.3), grad=0.5, prev=(x,))
    read_rule(text, "tanh").run(out)
    assert x.grad == 1.0 + (1 - math.tanh(0.3) ** 2) * 0.5


HEAD = "def _tanh_backward(out):\n    (self,) = out._prev\n"


@pytest.mark.parametrize(
    "text, line, col, words",
    [
        ("import os\n", 1, 1, "an import"),
        ("from os import system\n" + HEAD + "    self.grad += 1\n", 1, 1, "an import"),
        (HEAD + "    import os\n", 3, 5, "an import is not allowed"),
        (HEAD + "    self.grad += out.__class__\n", 3, 18, "not .__class__"),
        (HEAD + "    self.grad += ().__class__.__bases__[0]\n", 3, 18, "not allowed"),
        (HEAD + "    self.grad += __import__('os').system('true')\n", 3, 18, "can be called"),
        (HEAD + "    self.grad += 9**9**9\n", 3, 18, "9**9**9"),
        (HEAD + "    self.grad += out.data ** 1000\n", 3, 30, "at most 64"),
        (HEAD + "    while True:\n        self.grad += 1\n", 3, 5, "a loop"),
        (HEAD + "    for i in range(9):\n        self.grad += 1\n", 3, 5, "a loop"),
        (HEAD + "    if out.data > 0:\n        self.grad += 1\n", 3, 5, "an if statement"),
        (HEAD + "    self.data = 1\n", 3, 5, "changes gradients only"),
        (HEAD + "    self.grad += open('/etc/passwd')\n", 3, 18, "can be called"),
        (HEAD + "    self.grad += lambda: 1\n", 3, 18, "lambda is not allowed"),
        (HEAD + "    self.grad += y\n", 3, 18, "unknown name 'y'"),
        (HEAD + "    return 1\n", 3, 5, "return"),
        ("def _tanh_backward(out):\n    self.grad += out.grad\n", 2, 5, "unpack out._prev first"),
        ("def _tanh_backward(out):\n    self, other = out._prev\n    self.grad += 1\n", 2, 5, "1 operand"),
        ("def _tanh_backward(out, x=os.system('true')):\n    pass\n", 1, 1, "exactly one parameter"),
        ("@os.system\n" + HEAD + "    self.grad += 1\n", 1, 2, "@staticmethod"),
        ("x" * 100_000, 1, 1, "at most 8,192"),
        (HEAD + "    self.grad += 1\x00\n", 3, 1, "NUL"),
        (HEAD + "    self.grad += (\n", 3, 18, "Python cannot read it"),
        (HEAD + "    self.grad += " + "+".join(["out.grad"] * 800) + "\n", 1, 1, "too long"),
        (HEAD + "    pass\n", 3, 5, "pass"),
        (HEAD + "    t = out.data\n", 1, 1, "never changes a gradient"),
    ],
)
def test_hostile_or_wrong_texts_get_a_message_at_line_and_column_and_nothing_runs(
    text, line, col, words, monkeypatch
):
    import os

    ran = []
    monkeypatch.setattr(os, "system", lambda *args: ran.append(args))
    with pytest.raises(RuleError) as err:
        read_rule(text, "tanh")
    assert ran == []
    assert words in err.value.message
    assert (err.value.line, err.value.col) == (line, col)


def test_a_number_that_cannot_be_computed_is_a_message_at_its_place():
    rule = read_rule(HEAD + "    self.grad += out.grad / (out.data - out.data)\n", "tanh")
    x = Node(0.5)
    with pytest.raises(RuleError) as err:
        rule.run(Node(math.tanh(0.5), 1.0, (x,)))
    assert "divides by zero" in err.value.message and err.value.line == 3


# ------------------------------------------------------ the interpreter agrees with Python

_READS = ["self.data", "self.grad", "other.data", "other.grad", "out.data", "out.grad", "t"]


def _formula(depth: int):
    leaf = st.one_of(
        st.sampled_from(_READS),
        st.sampled_from(["0.5", "1", "2", "3", "1.5", "0.25"]),
    )
    if depth == 0:
        return leaf

    sub = _formula(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(sub, st.sampled_from(["2", "3", "-1"])).map(lambda t: f"({t[0]}) ** {t[1]}"),
        sub.map(lambda s: f"-{s}"),
        st.tuples(sub, sub).map(lambda t: f"(1 if {t[0]} > {t[1]} else 0.5)"),
        st.tuples(st.sampled_from(["math.tanh", "math.exp", "abs"]), sub).map(
            lambda t: f"{t[0]}(({t[1]}) / 10)"
        ),
    )


_statement = st.tuples(
    st.sampled_from(["self.grad", "other.grad"]), st.sampled_from(["+=", "=", "-="]), _formula(3)
).map(lambda t: f"    {t[0]} {t[1]} {t[2]}\n")


def _finite(x):
    if not math.isfinite(x):
        raise OverflowError("not finite")
    return x


def _grads_finite(*nodes):
    for node in nodes:
        _finite(node.grad)


class _CheckEveryNumber(ast.NodeTransformer):
    """Python's run of the generated text, made to stop at a number that is not finite."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return ast.Call(ast.Name("_finite", ast.Load()), [node], [])

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        check = ast.parse("_grads_finite(self, other)").body[0]
        node.body = [part for stmt in node.body for part in (stmt, check)]
        return node


def _checked(text: str):
    return ast.fix_missing_locations(_CheckEveryNumber().visit(ast.parse(text)))


@settings(max_examples=300, deadline=None)
@example(  # an inf on the way, written over by the next line: refused by both
    body=["    self.grad += ((out.data / self.data) / self.data)\n", "    self.grad = self.data\n"],
    values=[2.42622206507921e-178, 0.0, 0.0, 0.0, 1.0, 0.0],
)
@given(
    body=st.lists(_statement, min_size=1, max_size=4),
    values=st.lists(st.floats(-3, 3, allow_nan=False), min_size=6, max_size=6),
)
def test_the_interpreter_agrees_with_python_on_the_allowed_subset(body, values):
    text = "def _mul_backward(out):\n    self, other = out._prev\n    t = out.data\n" + "".join(body)

    def nodes():
        a = Node(values[0], values[1])
        b = Node(values[2], values[3])
        return a, b, Node(values[4], values[5], (a, b))

    a, b, out = nodes()
    try:
        read_rule(text, "*").run(out)
        ours = (a.grad, b.grad)
    except RuleError:
        ours = None
    pa, pb, pout = nodes()
    namespace: dict = {"math": math, "_finite": _finite, "_grads_finite": _grads_finite}
    # the test's own generated text, never a learner's; every number Python computes on the way is
    # checked to be finite, as the interpreter requires (an inf written over later is still refused)
    exec(compile(_checked(text), "<test>", "exec"), namespace)
    try:
        namespace["_mul_backward"](pout)
        theirs = (pa.grad, pb.grad)
        if not all(math.isfinite(g) for g in theirs):
            theirs = None
    except (ZeroDivisionError, OverflowError):
        theirs = None
    if theirs is None:
        assert ours is None or not all(map(math.isfinite, (pa.grad, pb.grad)))
    else:
        assert ours is not None, text
        assert all(math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-300) for x, y in zip(ours, theirs)), text


def test_a_line_typed_at_the_left_edge_is_said_to_be_outside_the_rule():
    """The editor does not indent a new line by itself: the usual slip is a line at column 1."""
    text = "def _mul_backward(out):\n    self, other = out._prev\n    self.grad += other.data * out.grad\nother.grad += self.data * out.grad\n"
    with pytest.raises(RuleError) as err:
        read_rule(text, "*")
    assert "outside the rule: indent it under the def line" in err.value.message
    assert (err.value.line, err.value.col) == (4, 1)


@pytest.mark.parametrize(
    "body, says",
    [
        ("    (self,) = out._prev\n        self.grad += out.grad\n", "indented more than the line above"),
        ("    (self,) = out._prev\n  self.grad += out.grad\n", "matches no line above"),
        ("    if out.data > 0:\n    self.grad += out.grad\n", "indented one level more (4 spaces)"),
    ],
)
def test_a_line_indented_wrongly_says_what_to_do_at_its_line(body, says):
    with pytest.raises(RuleError) as err:
        read_rule("def _tanh_backward(out):\n" + body)
    assert says in err.value.message and "Python cannot read it" not in err.value.message
    assert err.value.line == 3
