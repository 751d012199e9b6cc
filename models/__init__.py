"""Model adapters shipped with soilbench."""
