"""Entry point of `python -m model_core`."""

import sys

from .cli import main

sys.exit(main())
