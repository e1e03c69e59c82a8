"""The app's bundled files (style sheet, icon, desktop entry); the build ships this folder as `workbench.resources`.

Read them through `workbench.gui.resources`, which also finds this folder in a checkout that is not installed.
"""
