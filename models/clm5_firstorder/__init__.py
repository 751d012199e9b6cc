"""CLM5 CENTURY-based first-order soil carbon cascade (``clm5_firstorder``)."""

from .adapter import Clm5FirstOrderAdapter

__all__ = ["Clm5FirstOrderAdapter"]
