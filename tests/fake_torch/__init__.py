"""Helpers for the PyTorch stand-in in ``tests/fake_torch/torch``."""

import importlib.util
from pathlib import Path

DIR = Path(__file__).parent


def load(mode: str = "", monkeypatch=None):
    """A fresh copy of the stand-in, imported under another name so a real PyTorch is untouched.
    ``mode`` is the FAKE_TORCH behaviour (``monkeypatch`` sets it for the import)."""
    if monkeypatch is not None:
        monkeypatch.setenv("FAKE_TORCH", mode)
    spec = importlib.util.spec_from_file_location("fake_torch_module", DIR / "torch" / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
