"""Building bundles: the embedded default bundle from the reference data, and synthetic monitoring data."""
