"""The data bundle: read, validate, write.

A bundle is a folder holding one file per table (``<table>.csv`` or
``<table>.parquet``) and a ``bundle.json`` of metadata, or one ``.xlsx`` workbook with a
sheet per table and a ``_meta`` sheet. The tables are declared in
:mod:`fne_eval.bundle.spec`.

Typed tables (what :func:`load_bundle` returns), by column kind:

- ``code`` / ``str`` / ``list``: pandas string dtype, missing values are ``NA``;
  ``list`` stays the ``|``-joined text (split with :func:`fne_eval.bundle.io.split_list`);
- ``int``: ``int64`` when the column is required, ``Int64`` when it may be empty;
- ``float``: ``float64``;
- ``money``: ``object`` holding :class:`decimal.Decimal` quantized to the cent (``None`` when empty);
- ``date``: ``datetime64[ns]``;
- ``bool``: ``bool`` when required, ``boolean`` when it may be empty.
"""
from fne_eval.bundle.io import Bundle, BundleError, BundleValidationError, write_bundle  # noqa: F401
from fne_eval.bundle.load import load_bundle

__all__ = ["Bundle", "BundleError", "BundleValidationError", "load_bundle", "write_bundle"]
