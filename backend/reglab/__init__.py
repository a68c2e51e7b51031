"""reglab: a live lab comparing how regularizers and optimizers behave (Tips for Deep Learning)."""

__version__ = "0.1.0"
