"""Soil water functions shared by the CLM-family models (``clm5_firstorder``, ``tao_enzyme``).

CLM's mineral-soil pedotransfer (Cosby et al. 1984, Water Resour. Res. 20, 682-690,
doi:10.1029/WR020i006p00682) turning volumetric water into water potential, and CLM's moisture
rate scalar (Andren & Paustian 1987, Ecology 68, 1190-1200, doi:10.2307/1939203). Both specs
define them once (``clm5_firstorder.md`` section (c); ``tao_enzyme.md`` (e): "as in
clm5_firstorder.md"), so both adapters use this one implementation.
"""

from __future__ import annotations

import numpy as np

MPA_PER_MM = 9.80665e-6


def cosby_parameters(sand, clay):
    """CLM mineral-soil pedotransfer parameters (Cosby et al. 1984).

    Parameters
    ----------
    sand, clay : array_like
        Sand and clay content. [%]

    Returns
    -------
    theta_sat : ndarray
        Porosity, ``0.489 - 0.00126 sand``. [m3 m-3]
    b : ndarray
        Clapp-Hornberger exponent, ``2.91 + 0.159 clay``. [1]
    psi_sat : ndarray
        Saturated matric suction, ``10 * 10**(1.88 - 0.0131 sand)`` (positive). [mm]
    """
    sand = np.asarray(sand, dtype=float)
    clay = np.asarray(clay, dtype=float)
    return 0.489 - 0.00126 * sand, 2.91 + 0.159 * clay, 10.0 * 10.0 ** (1.88 - 0.0131 * sand)


def soil_water_potential(theta, sand, clay):
    """Soil water potential from volumetric water content (CLM's theta -> psi, no organic blend).

    Parameters
    ----------
    theta : array_like
        Volumetric soil water, at most the porosity ``theta_sat`` (the adapters reject wetter
        soil: nothing is clipped); 0 gives ``-inf``. [m3 m-3]
    sand, clay : array_like
        Sand and clay content. [%]

    Returns
    -------
    ndarray
        ``psi = -psi_sat (theta/theta_sat)**(-b)`` converted from mm. [MPa]
    """
    theta_sat, b, psi_sat = cosby_parameters(sand, clay)
    saturation = np.asarray(theta, dtype=float) / theta_sat
    with np.errstate(divide="ignore"):
        return -psi_sat * saturation ** (-b) * MPA_PER_MM


def moisture_scalar(psi, psi_min, psi_max, w_scaling=1.0):
    """Moisture rate scalar r_W (Andren & Paustian 1987 form used by CLM).

    Parameters
    ----------
    psi : array_like
        Soil water potential (negative). [MPa]
    psi_min, psi_max : array_like
        Potentials of no activity and of full activity, ``psi_min < psi_max < 0``. [MPa]
    w_scaling : array_like
        Multiplier on r_W, the product capped at 1 (PRODA). [1]

    Returns
    -------
    ndarray
        ``min(1, w_scaling r_W)`` with ``r_W = ln(psi_min/psi)/ln(psi_min/psi_max)`` clipped to
        [0, 1], i.e. 0 for ``psi <= psi_min`` and 1 for ``psi >= psi_max``. [1]
    """
    psi = np.asarray(psi, dtype=float)
    psi_min = np.asarray(psi_min, dtype=float)
    with np.errstate(divide="ignore"):
        r_w = np.clip(np.log(psi_min / psi) / np.log(psi_min / np.asarray(psi_max, dtype=float)), 0.0, 1.0)
    return np.minimum(1.0, w_scaling * r_w)
