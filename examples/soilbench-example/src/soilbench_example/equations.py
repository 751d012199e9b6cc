"""Equations of the two-pool example model: pure vectorised numpy, no harness imports.

Plant litter L receives the carbon input I and decomposes at first order; a share ``e`` of the
decomposed litter (the microbial efficiency, times ``cue_scale``) becomes soil organic matter S,
the rest is respired; S decomposes at first order and is respired. Both rates follow one Q10
temperature scalar with reference 15 degC::

    xi    = q10 ** ((T - 15) / 10)
    dL/dt = I - xi L / tau_l
    dS/dt = e xi L / tau_l - xi S / tau_s

so the steady state is closed-form: ``L* = I tau_l / xi`` and ``S* = e I tau_s / xi``.
Units: pools [g C m-2], fluxes [g C m-2 yr-1], turnover times [yr], temperature [degC].
"""

from __future__ import annotations

import numpy as np

#: reference temperature of the turnover times [degC]
T_REFERENCE = 15.0


def rate_scalar(temperature, q10):
    """Temperature scalar of both decomposition rates.

    Parameters
    ----------
    temperature : array_like
        Soil temperature. [degC]
    q10 : array_like
        Rate increase per 10 degC. [1]

    Returns
    -------
    ndarray
        ``q10 ** ((temperature - 15) / 10)``. [1]
    """
    return np.asarray(q10, dtype=float) ** ((np.asarray(temperature, dtype=float) - T_REFERENCE) / 10.0)


def steady_state(c_input, tau_litter, tau_som, efficiency, xi):
    """Steady-state litter and SOM.

    Parameters
    ----------
    c_input : array_like
        Carbon input to litter. [g C m-2 yr-1]
    tau_litter, tau_som : array_like
        Turnover times at ``xi = 1``. [yr]
    efficiency : array_like
        Share of decomposed litter becoming SOM, after ``cue_scale``; in (0, 1). [1]
    xi : array_like
        Rate scalar (``rate_scalar``). [1]

    Returns
    -------
    litter, som : ndarray
        ``c_input tau_litter / xi`` and ``efficiency c_input tau_som / xi``. [g C m-2]
    """
    litter = c_input * tau_litter / xi
    som = efficiency * c_input * tau_som / xi
    return litter, som


def fluxes(litter, som, c_input, tau_litter, tau_som, efficiency, xi):
    """Tendencies and fluxes at the given pools.

    Parameters
    ----------
    litter, som : array_like
        Pools. [g C m-2]
    c_input, tau_litter, tau_som, efficiency, xi : array_like
        As in ``steady_state``.

    Returns
    -------
    dlitter, dsom : ndarray
        Tendencies. [g C m-2 yr-1]
    flux : dict of str to ndarray
        ``uptake`` (all decomposed carbon), ``growth`` (the part that becomes SOM),
        ``respiration`` (uptake - growth) and ``leaching`` (0). [g C m-2 yr-1]
    """
    decay_litter = xi * litter / tau_litter
    decay_som = xi * som / tau_som
    growth = efficiency * decay_litter
    uptake = decay_litter + decay_som
    flux = {"uptake": uptake, "growth": growth, "respiration": uptake - growth,
            "leaching": np.zeros_like(uptake)}
    return c_input - decay_litter, growth - decay_som, flux
