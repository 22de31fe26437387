"""The package version, in one place: setup.cfg reads it (`attr:`) without
importing TensorFlow, and `tfp_gumbel.__version__` re-exports it."""

__version__ = "0.2.0"
