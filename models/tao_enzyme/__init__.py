"""Tao et al. (2023) microbial-enzyme soil carbon model, single layer (``tao_enzyme``)."""

from .adapter import TaoEnzymeAdapter

__all__ = ["TaoEnzymeAdapter"]
