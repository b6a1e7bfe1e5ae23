"""neurodyn: dynamic functional connectomes, brain-state GLMs and circuit models.

Subpackages
-----------
neurodyn.data        Recording container, readers, cohort alignment, preprocessing, synthetic data
neurodyn.connectome  affinities, non-negative tensor factorization, weighted communities
neurodyn.states      HMM-GLMs with no, Gaussian and one-hot connectivity priors
neurodyn.circuits    recurrent gain control; rich vs. lazy learning in RNNs
neurodyn.plots       figures (matplotlib only)
neurodyn.backend     array namespace (numpy default, torch/cupy optional)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neurodyn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0+local"

__all__ = ["__version__"]
