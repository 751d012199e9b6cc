"""Allison, Wallenstein & Bradford (2010) microbial-enzyme model (``awb``)."""

from .adapter import AwbAdapter

__all__ = ["AwbAdapter"]
