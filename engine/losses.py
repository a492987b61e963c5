"""Loss functions: one number that says how wrong the model is, built from `Value`s.

Because a loss is made of the same operations as the model, ``loss.backward()`` tells every
weight which way to move to make the model less wrong.

Targets are plain numbers: ``+1`` / ``-1`` for `sse` and `max_margin` (the seeds' and
micrograd's convention), ``1`` / ``0`` for `bce`.
"""

from __future__ import annotations

from engine.value import Value

__all__ = [
    "total",
    "mean",
    "sse",
    "max_margin",
    "bce",
    "l2_penalty",
    "sign_accuracy",
    "threshold_accuracy",
    "BCE_EPSILON",
]

# bce adds this inside its logs, so a probability of exactly 0 or 1 gives a large loss, not log(0)
BCE_EPSILON = 1e-12


def total(values):
    """``values[0] + values[1] + ...`` without the extra ``0 +`` node that ``sum()`` adds."""
    values = list(values)
    if not values:
        raise ValueError("nothing to add up: the list of values is empty")
    result = values[0]
    for v in values[1:]:
        result = result + v
    return result


def mean(values):
    """The average of some Values (the mean of one value is that value: no extra node)."""
    values = list(values)
    if len(values) == 1:
        return values[0]
    return total(values) * (1.0 / len(values))


def sse(predictions, targets) -> Value:
    """Sum of squared errors, the seeds' loss: ``sum((pred - target)**2)``.

    Each term is 0 when the prediction hits its target and grows with the square of the miss, so
    its gradient ``2 * (pred - target)`` pushes harder the further off a prediction is.
    """
    return total((pred - y) ** 2 for pred, y in zip(predictions, targets))


def max_margin(scores, targets) -> Value:
    """The mean hinge loss from micrograd's demo: ``mean(relu(1 - y * score))``, y = ±1.

    A sample costs nothing once its score is on the right side *with a margin of 1*
    (``y * score >= 1``); only the samples still inside the margin send any gradient back.
    """
    return mean((1 - y * score).relu() for score, y in zip(scores, targets))


def bce(probabilities, targets, eps: float = BCE_EPSILON) -> Value:
    """Mean binary cross-entropy: ``-mean(y * log(p) + (1 - y) * log(1 - p))``, y = 1 or 0.

    ``p`` must be a probability, such as a sigmoid's output. A confident wrong answer (``p`` near
    0 when y is 1) costs a lot: ``-log(p)`` grows without bound. ``eps`` keeps it finite when ``p``
    is exactly 0 or 1, which a sigmoid reaches in floating point for large inputs.
    """
    return -mean(y * (p + eps).log() + (1 - y) * (1 - p + eps).log() for p, y in zip(probabilities, targets))


def l2_penalty(parameters, alpha: float) -> Value:
    """``alpha * sum(p * p)``: added to a loss, it pulls every weight a little toward 0."""
    return alpha * total(p * p for p in parameters)


def sign_accuracy(scores, targets) -> float:
    """Fraction of samples whose score has the target's sign (targets ±1), as in micrograd."""
    right = [(y > 0) == (_number(s) > 0) for s, y in zip(scores, targets)]
    return sum(right) / len(right)


def threshold_accuracy(probabilities, targets, threshold: float = 0.5) -> float:
    """Fraction of samples whose probability lands on the target's side of 0.5 (targets 1/0)."""
    right = [(y > 0.5) == (_number(p) > threshold) for p, y in zip(probabilities, targets)]
    return sum(right) / len(right)


def _number(x) -> float:
    return x.data if isinstance(x, Value) else float(x)
