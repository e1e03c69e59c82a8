"""``python -m workbench``: the same as ``python main.py``."""

import sys

from workbench.cli import main

# Guarded: a training child process (multiprocessing spawn) imports this module again as __mp_main__.
if __name__ == "__main__":
    sys.exit(main())
