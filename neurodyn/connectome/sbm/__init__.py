"""The nested weighted stochastic block model behind :mod:`neurodyn.connectome.communities`.

- :mod:`~neurodyn.connectome.sbm.objective`: the description length (nested, flat and
  planted-partition models; exponential, normal and log-normal weights) and the block
  sums it is computed from;
- :mod:`~neurodyn.connectome.sbm.search`: the agglomerative search with exact move and
  merge scoring, and the choice of the upper levels.

The public API (``weighted_sbm``, ``WeightedSBM``, ``description_length``) is in
:mod:`neurodyn.connectome.communities`.
"""
