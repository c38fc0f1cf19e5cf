"""Shared pytest setup for the helpers' tests."""

import matplotlib

# Plot tests draw off-screen. matplotlib.use (not the MPLBACKEND variable) so the choice stays in this process
# and does not leak into the Jupyter kernels nbval starts, which should keep their inline backend.
matplotlib.use("Agg")
