"""tutor: a terminal app that teaches backpropagation by letting the learner watch it happen.

The package is split by what the code is about: pure logic that needs no terminal
(``tutor.lessons``, ``tutor.progress``, ``tutor.quiz``, ``tutor.cli``) and the Textual app
(``tutor.app``, ``tutor.screens``, ``tutor.widgets``). Importing ``tutor`` imports neither.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tutor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
