"""MIMICS, carbon only, at steady state (``mimics``)."""

from .adapter import MimicsAdapter

__all__ = ["MimicsAdapter"]
