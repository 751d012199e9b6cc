"""Millennial v2 soil carbon model (``millennial``)."""

from .adapter import MillennialAdapter

__all__ = ["MillennialAdapter"]
