"""tutor: a terminal app that teaches backpropagation by letting the learner watch it happen.

The package is split by what the code is about: pure logic that needs no terminal
(``tutor.lessons``, ``tutor.progress``, ``tutor.quiz``, ``tutor.cli``) and the Textual app
(``tutor.app``, ``tutor.screens``, ``tutor.widgets``). Importing ``tutor`` imports neither.

``tutor.__version__`` is the installed package's version. It is looked up on first use:
``importlib.metadata`` costs tens of milliseconds to import, and start-up should not pay for it.
"""

__all__ = ["__version__"]


def __getattr__(name: str):
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("tutor")
        except PackageNotFoundError:  # a source tree that was never installed
            value = "0+unknown"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'tutor' has no attribute {name!r}")
