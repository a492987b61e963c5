"""Practice that comes back: review items on a spaced schedule, fresh numbers, skill levels.

* :mod:`~tutor.review.schedule`: every block answered wrong is a :class:`ReviewItem`, moved
  through Leitner boxes by the answers the progress store already keeps (nothing new is stored);
* :mod:`~tutor.review.fresh`: a block's program with its leaves drawn afresh and the answer
  recomputed by the engine;
* :mod:`~tutor.review.questions`: what a review of one item asks (a quiz, or the debugger in
  predict mode), found in the catalogue by the block's stable id;
* :mod:`~tutor.review.skills`: the skills table and the learner's level in each.

Pure logic: no Textual (``tests/logic/test_pure_imports.py``).
"""

from tutor.review.schedule import (
    INTERVALS,
    RESOLVED_AFTER_DAYS,
    RESOLVED_WORDS,
    ReviewItem,
    day_of,
    due_items,
    review_items,
    tag_resolution,
)

__all__ = [
    "INTERVALS",
    "RESOLVED_AFTER_DAYS",
    "RESOLVED_WORDS",
    "ReviewItem",
    "day_of",
    "due_items",
    "review_items",
    "tag_resolution",
]
