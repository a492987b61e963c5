"""engine.nn and engine.losses: the seeds' network, seeded initialisation, labels, the losses."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.losses import (
    bce,
    l2_penalty,
    max_margin,
    mean,
    sign_accuracy,
    sse,
    threshold_accuracy,
    total,
)
from engine.nn import ACTIVATIONS, MLP, Layer, Neuron
from engine.value import Value, topological_order

shapes = st.tuples(st.integers(1, 4), st.lists(st.integers(1, 5), min_size=1, max_size=3))
seeds = st.integers(0, 2**32)
activations = st.sampled_from(sorted(ACTIVATIONS))


# ------------------------------------------------------------------------ the network


def test_the_seeds_network_has_41_parameters():
    assert len(MLP(3, [4, 4, 1]).parameters()) == 41


def test_micrograd_demo_network_has_337_parameters():
    # (2*16 + 16) + (16*16 + 16) + (16*1 + 1)
    assert len(MLP(2, [16, 16, 1], activation="relu", linear_output=True).parameters()) == 337


@settings(max_examples=60)
@given(shape=shapes, seed=seeds)
def test_weights_and_biases_start_in_minus_one_to_one(shape, seed):
    nin, nouts = shape
    model = MLP(nin, nouts, seed=seed)
    assert all(-1.0 <= p.data <= 1.0 for p in model.parameters())
    assert all(p.grad == 0.0 for p in model.parameters())


def test_biases_are_random_too_not_zero():
    model = MLP(3, [4, 4, 1], seed=1)
    biases = [n.b.data for layer in model.layers for n in layer.neurons]
    assert len(set(biases)) == len(biases)
    assert all(b != 0.0 for b in biases)


@settings(max_examples=60)
@given(shape=shapes, seed=seeds)
def test_same_seed_gives_same_weights(shape, seed):
    nin, nouts = shape
    assert MLP(nin, nouts, seed=seed).parameter_values() == MLP(nin, nouts, seed=seed).parameter_values()


@settings(max_examples=60)
@given(seed=seeds, other=seeds)
def test_different_seeds_give_different_weights(seed, other):
    if seed != other:
        assert (
            MLP(3, [4, 4, 1], seed=seed).parameter_values()
            != MLP(3, [4, 4, 1], seed=other).parameter_values()
        )


def test_building_and_running_a_model_leaves_global_random_alone():
    random.seed(123)
    state = random.getstate()
    model = MLP(3, [4, 4, 1], seed=7)
    Neuron(3, seed=1)
    Layer(3, 2, seed=2)
    sse([model(x) for x in [[1, 2, 3], [0, 1, 0]]], [1, -1]).backward()
    assert random.getstate() == state


def test_a_model_with_no_seed_still_uses_its_own_generator():
    random.seed(5)
    state = random.getstate()
    MLP(3, [4, 4, 1])
    assert random.getstate() == state


def test_parameter_labels_say_where_each_parameter_lives():
    model = MLP(3, [4, 4, 1], seed=1)
    assert model.layers[1].neurons[0].w[2].label == "w[1][0][2]"
    assert model.layers[1].neurons[0].b.label == "b[1][0]"
    assert model.layers[2].neurons[0].w[3].label == "w[2][0][3]"
    labels = [p.label for p in model.parameters()]
    assert len(set(labels)) == 41


def test_forward_pass_labels_sums_and_outputs():
    model = MLP(3, [4, 1], seed=1)
    out = model([1.0, 2.0, 3.0])
    assert out.label == "h[1][0]"
    assert out._op == "tanh"
    assert out._prev[0].label == "z[1][0]"


def test_standalone_neuron_labels():
    n = Neuron(2, seed=1)
    assert [p.label for p in n.parameters()] == ["w[0]", "w[1]", "b"]


def test_repr_reads_like_micrograd():
    assert (
        repr(MLP(3, [2, 1])) == "MLP of [Layer of [TanhNeuron(3), TanhNeuron(3)], Layer of [TanhNeuron(2)]]"
    )
    demo = MLP(2, [2, 1], activation="relu", linear_output=True)
    assert repr(demo) == "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]"
    assert repr(Neuron(4, "sigmoid")) == "SigmoidNeuron(4)"


def _by_hand(activation, z):
    return {
        "tanh": math.tanh,
        "relu": lambda v: max(v, 0.0),
        "leaky_relu": lambda v: v if v > 0 else 0.01 * v,
        "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
        "linear": lambda v: v,
    }[activation](z)


@settings(max_examples=80)
@given(
    activation=activations,
    seed=seeds,
    x=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
)
def test_a_neuron_computes_its_activation_of_w_dot_x_plus_b(activation, seed, x):
    n = Neuron(3, activation, seed=seed)
    z = n.b.data + sum(w.data * xi for w, xi in zip(n.w, x))
    assert n(x).data == pytest.approx(_by_hand(activation, z), abs=1e-12)


@settings(max_examples=80)
@given(
    activation=activations,
    seed=seeds,
    x=st.lists(st.floats(-3, 3), min_size=1, max_size=6),
    as_values=st.booleans(),
)
def test_a_neuron_builds_the_graph_of_micrograds_sum_node_for_node(activation, seed, x, as_values):
    # micrograd writes the weighted sum as sum((wi * xi for ...), b): the neuron must make the same
    # nodes in the same order, so that its data and every gradient agree to the last bit
    n = Neuron(len(x), activation, seed=seed)
    inputs = [Value(v) for v in x] if as_values else x
    ours = n(inputs)
    z = sum((wi * xi for wi, xi in zip(n.w, inputs)), n.b)
    theirs = z if activation == "linear" else getattr(z, activation)()
    ours_order, theirs_order = topological_order(ours), topological_order(theirs)
    assert [(v._op, v.data) for v in ours_order] == [(v._op, v.data) for v in theirs_order]
    ours.backward()
    ours_grads = [v.grad for v in ours_order]
    for v in ours_order:
        v.grad = 0.0
    theirs.backward()
    assert ours_grads == [v.grad for v in theirs_order]


def test_a_neurons_labels_follow_its_place_on_every_call():
    n = Neuron(2, "relu", seed=1, tag="[1][0]")
    for x in ([1.0, 2.0], [-1.0, 0.5]):
        out = n(x)
        assert (out.label, out._prev[0].label) == ("h[1][0]", "z[1][0]")
    n.activation = "linear"  # an activation changed after the neuron was made is the one used
    out = n([1.0, 2.0])
    assert (out._op, out.label) == ("+", "h[1][0]")


def test_linear_output_leaves_the_last_layer_unsquashed():
    squashed = MLP(1, [1], seed=3)
    raw = MLP(1, [1], linear_output=True, seed=3)
    for model in (squashed, raw):
        model.set_parameter_values([5.0, 1.0])  # w = 5, b = 1
    assert raw([2.0]).data == 11.0
    assert squashed([2.0]).data == pytest.approx(math.tanh(11.0))
    assert repr(raw) == "MLP of [Layer of [LinearNeuron(1)]]"


def test_hidden_layers_keep_their_activation_when_the_output_is_linear():
    model = MLP(2, [3, 1], activation="relu", linear_output=True, seed=1)
    assert [n.activation for n in model.layers[0].neurons] == ["relu"] * 3
    assert model.layers[1].neurons[0].activation == "linear"


def test_one_output_is_a_value_several_are_a_list():
    assert isinstance(MLP(3, [4, 1], seed=1)([1, 2, 3]), Value)
    outs = MLP(3, [4, 2], seed=1)([1, 2, 3])
    assert isinstance(outs, list) and len(outs) == 2
    assert isinstance(Layer(3, 1, seed=1)([1, 2, 3]), Value)


def test_a_one_neuron_hidden_layer_still_feeds_the_next_layer():
    out = MLP(2, [1, 1], seed=1)([0.5, -0.5])
    assert isinstance(out, Value)


def test_inputs_may_be_numbers_or_values():
    model = MLP(3, [4, 1], seed=1)
    assert model([1, 2, 3]).data == model([Value(1), Value(2), Value(3)]).data


def test_wrong_number_of_inputs_is_a_clear_error():
    with pytest.raises(ValueError, match="takes 3 inputs, got 2"):
        MLP(3, [4, 1], seed=1)([1, 2])


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        MLP(3, [4, 1], activation="softmax")


def test_zero_grad_clears_every_gradient():
    model = MLP(3, [4, 4, 1], seed=1)
    sse([model([2, 3, -1])], [1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_backward_reaches_every_parameter():
    model = MLP(3, [4, 4, 1], seed=1)
    xs = [[2, 3, -1], [3, -1, 0.5], [0.5, 1, 1], [1, 1, -1]]
    sse([model(x) for x in xs], [1, -1, -1, 1]).backward()
    assert all(p.grad != 0.0 for p in model.parameters())


@settings(max_examples=20, deadline=None)
@given(seed=seeds, activation=st.sampled_from(["tanh", "sigmoid", "linear"]))
def test_parameter_gradients_match_a_numeric_slope(seed, activation):
    model = MLP(3, [3, 1], activation=activation, seed=seed)
    xs, ys = [[2, 3, -1], [0.5, 1, 1]], [1.0, -1.0]

    def loss_now():
        return sse([model(x) for x in xs], ys)

    loss_now().backward()
    h = 1e-6
    for p in model.parameters():
        analytic, saved = p.grad, p.data
        p.data = saved + h
        up = loss_now().data
        p.data = saved - h
        down = loss_now().data
        p.data = saved
        assert analytic == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-6)


def test_set_parameter_values_checks_the_count():
    with pytest.raises(ValueError, match="expected 41 numbers, got 3"):
        MLP(3, [4, 4, 1]).set_parameter_values([1, 2, 3])


# ---------------------------------------------------------------------------- losses

finite = st.floats(-5, 5)


@given(pairs=st.lists(st.tuples(finite, st.sampled_from([-1.0, 1.0])), min_size=1, max_size=6))
def test_sse_is_the_sum_of_squared_misses_and_pushes_by_twice_the_miss(pairs):
    preds = [Value(p) for p, _ in pairs]
    loss = sse(preds, [y for _, y in pairs])
    assert loss.data == pytest.approx(sum((p - y) ** 2 for p, y in pairs))
    loss.backward()
    for v, (p, y) in zip(preds, pairs):
        assert v.grad == pytest.approx(2 * (p - y))


@given(pairs=st.lists(st.tuples(finite, st.sampled_from([-1.0, 1.0])), min_size=1, max_size=6))
def test_max_margin_is_the_mean_hinge_and_only_samples_inside_the_margin_send_gradient(pairs):
    scores = [Value(s) for s, _ in pairs]
    loss = max_margin(scores, [y for _, y in pairs])
    n = len(pairs)
    assert loss.data == pytest.approx(sum(max(0.0, 1 - y * s) for s, y in pairs) / n)
    loss.backward()
    for v, (s, y) in zip(scores, pairs):
        expected = -y / n if 1 - y * s > 0 else 0.0
        assert v.grad == pytest.approx(expected)


@given(pairs=st.lists(st.tuples(st.floats(0.01, 0.99), st.sampled_from([0.0, 1.0])), min_size=1, max_size=6))
def test_bce_is_minus_the_mean_log_likelihood(pairs):
    probs = [Value(p) for p, _ in pairs]
    loss = bce(probs, [y for _, y in pairs])
    expected = -sum(y * math.log(p) + (1 - y) * math.log(1 - p) for p, y in pairs) / len(pairs)
    assert loss.data == pytest.approx(expected, rel=1e-9)
    loss.backward()
    for v, (p, y) in zip(probs, pairs):
        # d/dp of -(y log p + (1-y) log(1-p)) / n
        assert v.grad == pytest.approx(-(y / p - (1 - y) / (1 - p)) / len(pairs), rel=1e-6)


@pytest.mark.parametrize("score", [-800.0, 800.0])
def test_bce_stays_finite_when_a_sigmoid_saturates_to_exactly_0_or_1(score):
    p = Value(score).sigmoid()
    assert p.data in (0.0, 1.0)
    for y in (0.0, 1.0):
        loss = bce([p], [y])
        loss.backward()
        assert math.isfinite(loss.data) and math.isfinite(p.grad)
    wrong = 1.0 if p.data == 0.0 else 0.0
    assert bce([p], [wrong]).data > 20  # a confident wrong answer costs a lot


def test_bce_punishes_confident_wrong_answers_more():
    assert bce([Value(0.01)], [1.0]).data > bce([Value(0.4)], [1.0]).data > bce([Value(0.99)], [1.0]).data


@given(ws=st.lists(finite, min_size=1, max_size=6), alpha=st.floats(0, 1))
def test_l2_penalty_is_alpha_times_the_sum_of_squares_and_pulls_toward_zero(ws, alpha):
    params = [Value(w) for w in ws]
    penalty = l2_penalty(params, alpha)
    assert penalty.data == pytest.approx(alpha * sum(w * w for w in ws))
    penalty.backward()
    for p, w in zip(params, ws):
        assert p.grad == pytest.approx(2 * alpha * w)


def test_sign_accuracy_counts_matching_signs():
    assert sign_accuracy([Value(0.3), Value(-2.0), Value(0.1), Value(-0.1)], [1, -1, -1, 1]) == 0.5
    assert sign_accuracy([0.5, -0.5], [1.0, -1.0]) == 1.0


def test_threshold_accuracy_uses_one_half():
    assert threshold_accuracy([Value(0.7), Value(0.2), Value(0.6), Value(0.4)], [1, 0, 0, 1]) == 0.5


def test_total_and_mean_add_no_extra_nodes():
    a, b = Value(1.0), Value(2.0)
    s = total([a, b])
    assert s._op == "+" and s._prev == (a, b)
    assert mean([a]) is a
    assert mean([a, b]).data == 1.5


def test_total_of_nothing_is_a_clear_error():
    with pytest.raises(ValueError, match="empty"):
        total([])
