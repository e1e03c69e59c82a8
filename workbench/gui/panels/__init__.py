"""One module per panel; each can be opened alone with ``python -m workbench.gui.panels.<name>``."""
