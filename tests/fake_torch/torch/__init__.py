"""A stand-in for PyTorch in the tests: 'float64 tensors' that are the engine's own Values.

Put its directory first on ``PYTHONPATH`` (for the child Python that ``tutor.torch_compare``
starts) or load it with :func:`tests.fake_torch.load` (in-process). ``FAKE_TORCH`` chooses how it
behaves, read when it is imported:

* unset: computes like the engine (so a comparison agrees exactly);
* ``wrong-tanh``: tanh is off by 1e-6 (a comparison must say which nodes differ);
* ``missing``: importing it fails as if PyTorch were not installed;
* ``crash``: importing it ends the process (a child that dies without an answer);
* ``slow``: importing it takes 60 s (a child the screen must stop when the learner leaves).
"""

import os as _os

_MODE = _os.environ.get("FAKE_TORCH", "")
if _MODE == "missing":
    raise ModuleNotFoundError("No module named 'torch'", name="torch")
if _MODE == "crash":
    _os._exit(3)
if _MODE == "slow":
    import time as _time

    _time.sleep(60)

from engine.value import Value as _Value  # noqa: E402 - after the modes that stop the import

__version__ = "0.0+fake"
float64 = "float64"


class Tensor:
    def __init__(self, value, requires_grad=False, leaf=True):
        self._value = value
        self.requires_grad = requires_grad
        self._leaf = leaf
        self._retain = False

    # the operations a program can use
    def _wrap(self, value, *others):
        needs = self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others)
        if not needs:  # like PyTorch: arithmetic on constants records nothing for backward
            value = _Value(value.data)
        return Tensor(value, requires_grad=needs, leaf=False)

    @staticmethod
    def _v(x):
        return x._value if isinstance(x, Tensor) else x

    def __add__(self, other):
        return self._wrap(self._value + self._v(other), other)

    def __radd__(self, other):
        return self._wrap(self._v(other) + self._value, other)

    def __sub__(self, other):
        return self._wrap(self._value - self._v(other), other)

    def __rsub__(self, other):
        return self._wrap(self._v(other) - self._value, other)

    def __mul__(self, other):
        return self._wrap(self._value * self._v(other), other)

    def __rmul__(self, other):
        return self._wrap(self._v(other) * self._value, other)

    def __truediv__(self, other):
        return self._wrap(self._value / self._v(other), other)

    def __rtruediv__(self, other):
        return self._wrap(self._v(other) / self._value, other)

    def __pow__(self, k):
        return self._wrap(self._value**k)

    def __neg__(self):
        return self._wrap(-self._value)

    def tanh(self):
        out = self._value.tanh()
        if _MODE == "wrong-tanh":
            out = out + 1e-6
        return self._wrap(out)

    def exp(self):
        return self._wrap(self._value.exp())

    def log(self):
        return self._wrap(self._value.log())

    def relu(self):
        return self._wrap(self._value.relu())

    def sigmoid(self):
        return self._wrap(self._value.sigmoid())

    def _leaky_relu(self, slope):
        return self._wrap(self._value.leaky_relu(slope))

    # autograd
    def retain_grad(self):
        self._retain = True

    def backward(self):
        self._value.backward()

    @property
    def grad(self):
        if not self.requires_grad or not (self._leaf or self._retain):
            return None
        return Tensor(_Value(self._value.grad))

    def item(self):
        return self._value.data


def tensor(x, dtype=None, requires_grad=False):
    assert dtype == float64, "the tutor must ask for float64"
    return Tensor(_Value(float(x)), requires_grad=requires_grad)


def tanh(t):
    return t.tanh()


def exp(t):
    return t.exp()


def log(t):
    return t.log()


def relu(t):
    return t.relu()


def sigmoid(t):
    return t.sigmoid()


class _Functional:
    @staticmethod
    def leaky_relu(t, negative_slope=0.01):
        return t._leaky_relu(negative_slope)


class nn:  # noqa: N801 - torch.nn.functional.leaky_relu, as PyTorch spells it
    functional = _Functional
