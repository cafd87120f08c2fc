"""Bring real monitoring data into a bundle (La Coop, Mon Inclusion Numérique)."""
