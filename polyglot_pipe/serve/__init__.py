"""``polyglot-pipe serve``: a LibreTranslate-compatible HTTP service (the ``[serve]`` extra)."""
