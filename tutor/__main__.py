"""`python -m tutor` is the `tutor` command."""

import sys

from tutor.cli import main

sys.exit(main())
