"""Builders of small bundles for the tests (written to ``tmp_path``, never shipped)."""
