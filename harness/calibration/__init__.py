"""Bayesian calibration of a model x variant against observations (kind ``calibrate``).

``target`` is plain numpy: the batched log-likelihood of steady states. ``sampler`` wraps it as a
PyTensor Op for PyMC (imported lazily: the ``calibration`` extra). ``posterior`` reads a
calibration's ``posterior.nc`` back with netCDF4 only, so posterior-informed Sobol runs and
reports need no PyMC.
"""
