"""Example data: a synthetic candidate generator and the bundled example table."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["synth_candidates", "example_path", "load_example", "INDUSTRIES", "GOALS", "REGIONS"]

#: Industries of the generator, with a NAICS-like code (2-6 digits) for each.
INDUSTRIES: dict[str, str] = {
    "Software": "541511", "IT Services": "541512", "Management Consulting": "541611",
    "Accounting": "541211", "Legal Services": "541110", "Marketing Agency": "541810",
    "Architecture": "541310", "Engineering Services": "541330", "Commercial Construction": "236220",
    "Residential Construction": "236115", "Specialty Trades": "238210",
    "Food Manufacturing": "311999",
    "Machinery Manufacturing": "333999", "Plastics Manufacturing": "326199",
    "Medical Devices": "339112", "Wholesale Distribution": "423990", "Retail": "452319",
    "E-commerce": "454110", "Trucking & Logistics": "484121", "Real Estate": "531210",
    "Insurance Agency": "524210", "Wealth Management": "523930", "Healthcare Practice": "621111",
    "Home Health Care": "621610", "Restaurants": "722511", "Hospitality": "721110",
    "Staffing": "561320", "Education & Training": "611430",
}

#: Goals and expertise share one vocabulary, so one member's expertise can meet another's goal.
GOALS: tuple[str, ...] = (
    "growth", "hiring", "leadership", "succession planning", "exit strategy", "fundraising",
    "pricing", "sales process", "marketing", "digital transformation", "operations",
    "cash flow", "M&A", "international expansion", "culture", "board building",
    "work-life balance", "customer experience", "product development", "cost reduction",
    "supply chain", "compliance",
)

#: Regions with their relative weight in the generator.
REGIONS: dict[str, float] = {
    "Northeast": 0.24, "Southeast": 0.2, "Midwest": 0.2, "Southwest": 0.14, "West": 0.22,
}

_SLOTS = ("Mon AM", "Mon PM", "Tue AM", "Tue PM", "Wed AM", "Wed PM", "Thu AM", "Thu PM",
          "Fri AM")
_FIRST = ("Ana", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal",
          "Kate", "Luis", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq",
          "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Aaron", "Bianca", "Carlos", "Dana")
_LAST = ("Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito",
         "Johnson", "Kowalski", "Lopez", "Murphy", "Nguyen", "Okafor", "Patel", "Quinn",
         "Rossi", "Schmidt", "Tanaka", "Umar", "Vargas", "Walsh", "Xu", "Young", "Zimmer")


def synth_candidates(n: int = 500, *, seed: int | None = 0, conflict_rate: float = 0.02,
                     ) -> pd.DataFrame:
    """Generate a realistic synthetic candidates table.

    Company sizes are log-uniform between 2 and 5,000 employees; revenue follows
    size with noise; each candidate has 1-3 goals and 1-3 areas of expertise drawn
    from :data:`GOALS`, two to five meeting slots, a region, one of
    :data:`INDUSTRIES`, and a tier (``"CEO"`` from 50 employees up, else
    ``"Owner"``). About ``conflict_rate * n`` explicit conflicts (a customer, a
    supplier, a relative) are listed in the ``conflicts`` column, symmetric.

    Parameters
    ----------
    n : int, default=500
        Number of candidates.
    seed : int or None, default=0
        Seed of the generator; the same seed gives the same table.
    conflict_rate : float, default=0.02
        Explicit conflicts per candidate.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, name, industry, naics, employees, revenue, goals, expertise,
        region, availability, conflicts, tier``, all strings.

    Examples
    --------
    >>> df = synth_candidates(5, seed=1)
    >>> list(df.columns)[:4]
    ['id', 'name', 'industry', 'naics']
    >>> len(df), df["id"].iloc[0]
    (5, 'M0001')
    """
    if n < 0:
        from .errors import ConfigError

        raise ConfigError(f"n must be >= 0. Got {n} instead.")
    rng = np.random.default_rng(seed)
    width = max(4, len(str(n)))
    ids = [f"M{i + 1:0{width}d}" for i in range(n)]
    names = [f"{rng.choice(_FIRST)} {rng.choice(_LAST)}" for _ in range(n)]
    inds = list(INDUSTRIES)
    # A few industries are common, most are rare: Zipf-like weights.
    w_ind = 1.0 / np.arange(1, len(inds) + 1) ** 0.6
    industry = rng.choice(inds, size=n, p=w_ind / w_ind.sum())
    regions = rng.choice(list(REGIONS), size=n, p=np.array(list(REGIONS.values())))
    employees = np.round(10 ** rng.uniform(np.log10(2), np.log10(5000), size=n)).astype(int)
    revenue = np.round(employees * 10 ** rng.normal(5.2, 0.25, size=n), -3).astype(np.int64)

    def pick(vocab, lo, hi):
        k = int(rng.integers(lo, hi + 1))
        return "; ".join(sorted(rng.choice(vocab, size=k, replace=False), key=vocab.index))

    goals = [pick(list(GOALS), 1, 3) for _ in range(n)]
    expertise = [pick(list(GOALS), 1, 3) for _ in range(n)]
    availability = [pick(list(_SLOTS), 2, 5) for _ in range(n)]
    tier = np.where(employees >= 50, "CEO", "Owner")

    conflicts: list[set[str]] = [set() for _ in range(n)]
    for _ in range(int(round(conflict_rate * n))) if n >= 2 else ():
        i, j = rng.choice(n, size=2, replace=False)
        conflicts[i].add(ids[j])
        conflicts[j].add(ids[i])
    # Some cells are left empty, as in real exports: a size column may be missing per row.
    revenue_s = [str(r) for r in revenue]
    for i in rng.choice(n, size=n // 25, replace=False) if n >= 25 else ():
        revenue_s[i] = ""
    return pd.DataFrame({
        "id": ids, "name": names, "industry": industry,
        "naics": [INDUSTRIES[x] for x in industry],
        "employees": [str(e) for e in employees], "revenue": revenue_s,
        "goals": goals, "expertise": expertise, "region": regions,
        "availability": availability,
        "conflicts": ["; ".join(sorted(c)) for c in conflicts], "tier": tier,
    })


def example_path() -> Path:
    """Path of the bundled example table (500 synthetic candidates).

    >>> example_path().name
    'candidates.csv'
    """
    return Path(str(resources.files("peermatch") / "data" / "candidates.csv"))


def load_example() -> pd.DataFrame:
    """The bundled example table as a DataFrame of strings.

    >>> load_example().shape[0]
    500
    """
    return pd.read_csv(example_path(), dtype=str, keep_default_na=False)
