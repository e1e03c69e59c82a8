"""Entry point: ``python main.py`` opens the workbench window; ``python main.py COMMAND`` runs the CLI."""

import sys

from workbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
