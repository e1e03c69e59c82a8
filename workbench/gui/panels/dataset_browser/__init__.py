"""The dataset tab: ``DatasetBrowserPanel`` (control, panel.py) on ``BrowserView`` (widgets, view.py);
what is browsed (split, class filter, shuffle order, page) in the Qt-free ``BrowseState`` (state.py);
the worker-thread loads and what they hand back in loading.py; rich text in text.py.

Nothing is imported here, so state.py, loading.py and text.py can be used (and tested) without Qt."""
