"""Conversion of the units written in data files onto the shared vocabulary's units.

Only what gridded inputs need: mass, length and time products (``kg C m-2 s-1``, ``g/m2/yr``,
``Mg ha-1``), volume fractions, percent and temperature (``K`` -> ``degC``). The element label
``C`` in ``g C m-2`` is a label, not coulomb, as in the vocabulary. A year is 365.25 days.
"""

from __future__ import annotations

import re

#: base unit -> (dimension index: 0 mass, 1 length, 2 time, 3 area-only; factor to kg, m, s)
_BASE = {
    "g": (0, 1e-3), "kg": (0, 1.0), "Mg": (0, 1e3), "t": (0, 1e3), "Gg": (0, 1e6), "Pg": (0, 1e12),
    "mg": (0, 1e-6),
    "m": (1, 1.0), "cm": (1, 1e-2), "mm": (1, 1e-3), "km": (1, 1e3),
    "s": (2, 1.0), "h": (2, 3600.0), "hr": (2, 3600.0), "d": (2, 86400.0), "day": (2, 86400.0),
    "yr": (2, 365.25 * 86400.0), "year": (2, 365.25 * 86400.0), "a": (2, 365.25 * 86400.0),
}
_HECTARE = 1e4  # [m2]
_CELSIUS = {"degC", "degree_Celsius", "degrees_Celsius", "degree_C", "degrees_C", "celsius", "Celsius"}
_KELVIN = {"K", "kelvin", "degK", "degree_Kelvin"}
_CARBON_LABELS = {"C", "c"}
_TOKEN = re.compile(r"^([A-Za-z_]+)(?:\^|\*\*)?(-?\d+)?$")


def conversion(source: str, target: str) -> tuple[float, float] | None:
    """``(scale, offset)`` with ``value_in_target = value * scale + offset``.

    None when the units are not convertible (or not understood).
    """
    if _is(source, _CELSIUS | _KELVIN) or _is(target, _CELSIUS | _KELVIN):
        if not (_is(source, _CELSIUS | _KELVIN) and _is(target, _CELSIUS | _KELVIN)):
            return None
        return 1.0, (-273.15 if _is(source, _KELVIN) else 0.0) - (-273.15 if _is(target, _KELVIN) else 0.0)
    a, b = _parse(source), _parse(target)
    if a is None or b is None or a[0] != b[0]:
        return None
    return a[1] / b[1], 0.0


def _is(units: str, names: set[str]) -> bool:
    return units.strip() in names


def _parse(units: str) -> tuple[tuple[int, int, int], float] | None:
    """Dimension exponents (mass, length, time) and the factor to SI, or None if unknown."""
    text = units.strip()
    if text in ("", "1", "-", "fraction", "m3 m-3", "m3/m3", "m^3 m^-3"):
        return (0, 0, 0), 1.0
    if text in ("%", "percent"):
        return (0, 0, 0), 1e-2
    dims, factor = [0, 0, 0], 1.0
    for k, part in enumerate(text.split("/")):
        sign = 1 if k == 0 else -1
        for token in part.split():
            if token in _CARBON_LABELS:
                continue
            match = _TOKEN.match(token)
            if match is None:
                return None
            name, power = match.group(1), sign * int(match.group(2) or 1)
            if name == "ha":
                dims[1] += 2 * power
                factor *= _HECTARE ** power
                continue
            if name not in _BASE:
                return None
            dim, to_si = _BASE[name]
            dims[dim] += power
            factor *= to_si ** power
    return (dims[0], dims[1], dims[2]), factor


def cf_units(units: str) -> str:
    """The vocabulary's units as CF/UDUNITS writes them: the element label dropped.

    ``g C m-2`` -> ``g m-2``; the carbon goes into the standard or long name.
    """
    return " ".join(t for t in units.split() if t not in _CARBON_LABELS) or "1"
