"""Small helpers every layer may use: the one atomic writer and the one progress bar."""
