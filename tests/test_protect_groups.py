"""Secondary suppression of a large (national) system, group by group (fne_eval.store.protect)."""
import pandas as pd

from fne_eval.store.protect import _protect_groups


def test_one_hidden_commune_takes_the_cheapest_sibling_with_it():
    terr = pd.DataFrame({
        "territory_code": ["13", "E1", "13001", "13002", "13003"],
        "territory_name": ["D", "E", "A", "B", "C"],
        "level": ["departement", "epci", "commune", "commune", "commune"],
        "departement_code": ["13", None, "13", "13", "13"],
        "epci_siren": [None, None, "E1", "E1", "E1"],
        "commune_code": [None] * 5,
    }, dtype="string")
    cells = pd.DataFrame({"level": ["commune", "commune", "commune", "epci", "departement", "departement"],
                          "territory_code": ["13001", "13002", "13003", "E1", "13", "13"],
                          "period": ["2025"] * 6, "breakdown": ["", "", "", "", "", "gender=feminin"],
                          "value": [3.0, 20.0, 30.0, 53.0, 53.0, 53.0]})
    st = _protect_groups(cells, 5, terr)
    # 3 < 5 is primary; the EPCI (and département) total 53 = 3 + 20 + 30 would give it back:
    # the cheapest other commune (20) is hidden too; the totals stay published. The one-category
    # breakdown of the département equals its total (a group of two published cells): untouched.
    assert st.tolist() == [1, 2, 0, 0, 0, 0]
