"""Bring data into a bundle: national open-data files, La Coop, Mon Inclusion Numérique."""
