"""Optimisers: how a step of gradient descent turns gradients into new weights.

After ``loss.backward()`` each parameter's ``grad`` says how the loss changes when that parameter
grows. Stepping *against* it (``p.data -= lr * p.grad``) makes the loss smaller, if ``lr`` is
small enough. Both optimisers here:

* take the parameters once, then ``step()`` after every backward pass;
* ``zero_grad()`` the parameters before the next backward pass (grads accumulate with ``+=``);
* can keep ``lr`` constant or let it fall linearly, ``lr * (1 - 0.9 * k / steps)`` at step k
  (k = 0, 1, ...), as micrograd's demo does with ``1.0 - 0.9 * k / 100``;
* accept ``ascend=True``: the classic mistake of writing ``+=`` instead of ``-=``, which climbs
  the loss instead of descending it.
"""

from __future__ import annotations

import math

__all__ = ["DECAYS", "learning_rate", "SGD", "Adam"]

DECAYS = ("none", "linear")


def learning_rate(lr: float, k: int, steps: int | None, decay: str = "none") -> float:
    """The rate for step ``k`` (0-based): ``lr``, or with ``decay="linear"`` down to 0.1·lr."""
    if decay == "none":
        return lr
    if decay == "linear":
        if not steps:
            raise ValueError("linear decay needs the total number of steps")
        return lr * (1.0 - 0.9 * k / steps)
    raise ValueError(f"unknown decay {decay!r}; use 'none' or 'linear'")


class _Optimiser:
    """What SGD and Adam share: the parameters, the step count and the rate schedule."""

    def __init__(self, parameters, lr, decay, steps, ascend):
        self.parameters = list(parameters)
        self.base_lr = float(lr)
        self.decay = decay
        self.steps = steps
        self.ascend = ascend
        self.k = 0  # how many steps have been taken
        learning_rate(self.base_lr, 0, steps, decay)  # reject a bad schedule now, not mid-run

    @property
    def lr(self) -> float:
        """The rate the next ``step()`` will use."""
        return learning_rate(self.base_lr, self.k, self.steps, self.decay)

    def zero_grad(self) -> None:
        """Set every parameter's grad back to 0 before the next backward pass."""
        for p in self.parameters:
            p.grad = 0.0

    def _move(self, p, change: float) -> None:
        if self.ascend:
            p.data += change  # the mistake: uphill, the loss grows
        else:
            p.data -= change  # downhill: against the gradient


class SGD(_Optimiser):
    """Plain gradient descent, ``p.data -= lr * p.grad``, optionally with momentum.

    With ``momentum`` m > 0 each parameter keeps a velocity ``v = m * v + grad`` and steps by
    ``lr * v``: a gradient that keeps pointing the same way builds up speed.
    """

    def __init__(self, parameters, lr=0.1, *, momentum=0.0, decay="none", steps=None, ascend=False):
        super().__init__(parameters, lr, decay, steps, ascend)
        if not 0.0 <= momentum < 1.0:
            raise ValueError("momentum must be at least 0 and less than 1")
        self.momentum = momentum
        self.velocity = [0.0] * len(self.parameters)

    def step(self) -> None:
        lr = self.lr
        for i, p in enumerate(self.parameters):
            if self.momentum:
                self.velocity[i] = self.momentum * self.velocity[i] + p.grad
                self._move(p, lr * self.velocity[i])
            else:
                self._move(p, lr * p.grad)
        self.k += 1


class Adam(_Optimiser):
    """Adam: each parameter gets its own step size from running averages of its gradients.

    ``m`` averages the gradient (which way to go), ``v`` averages its square (how big the
    gradients usually are). The step is ``lr * m_hat / (sqrt(v_hat) + eps)``, so every parameter
    moves about ``lr`` per step at first, whatever the scale of its gradient. ``m_hat`` and
    ``v_hat`` correct the averages' start at 0.
    """

    def __init__(
        self, parameters, lr=0.01, *, beta1=0.9, beta2=0.999, eps=1e-8, decay="none", steps=None, ascend=False
    ):
        super().__init__(parameters, lr, decay, steps, ascend)
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError("beta1 and beta2 must be at least 0 and less than 1")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [0.0] * len(self.parameters)
        self.v = [0.0] * len(self.parameters)

    def step(self) -> None:
        lr = self.lr
        t = self.k + 1
        for i, p in enumerate(self.parameters):
            g = p.grad
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g * g
            m_hat = self.m[i] / (1 - self.beta1**t)
            v_hat = self.v[i] / (1 - self.beta2**t)
            self._move(p, lr * m_hat / (math.sqrt(v_hat) + self.eps))
        self.k += 1
