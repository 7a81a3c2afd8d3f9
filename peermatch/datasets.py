"""Example data: a synthetic candidate generator and the bundled example table."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["synth_candidates", "synth_intake", "example_path", "load_example", "INDUSTRIES",
           "GOALS", "REGIONS", "INTAKE_TOPICS"]

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
                     intake: bool = False) -> pd.DataFrame:
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
    intake : bool, default=False
        Add two free-text intake answers, ``intake_goals`` ("what do you want to achieve")
        and ``intake_offers`` ("where could you help others"), written by
        :func:`synth_intake` from a random stream of their own: every other column is the
        same as without them.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, name, industry, naics, employees, revenue, goals, expertise,
        region, availability, conflicts, tier`` (then ``intake_goals, intake_offers``),
        all strings.

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
    df = pd.DataFrame({
        "id": ids, "name": names, "industry": industry,
        "naics": [INDUSTRIES[x] for x in industry],
        "employees": [str(e) for e in employees], "revenue": revenue_s,
        "goals": goals, "expertise": expertise, "region": regions,
        "availability": availability,
        "conflicts": ["; ".join(sorted(c)) for c in conflicts], "tier": tier,
    })
    if intake:
        # A stream of its own (seeded from ``seed``): the columns above do not change.
        text_rng = np.random.default_rng(None if seed is None else [seed, _INTAKE_STREAM])
        df["intake_goals"] = synth_intake(n, seed=text_rng, side="wants")["text"].to_numpy()
        df["intake_offers"] = synth_intake(n, seed=text_rng, side="offers")["text"].to_numpy()
    return df


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


# --------------------------------------------------------------------------- intake answers

#: Hidden topics of the generated intake answers: the words that say each one. Some words
#: belong to two topics (``valuation``, ``team``, ``leads``), as in real answers.
INTAKE_TOPICS: dict[str, tuple[str, ...]] = {
    "export": ("export", "Mexico", "distributors", "overseas", "tariffs", "customs",
               "Latin America"),
    "hiring": ("hiring", "engineers", "recruiting", "talent", "interviews", "salaries", "team"),
    "succession": ("succession", "successor", "family", "next generation", "handover",
                   "retirement"),
    "fundraising": ("investors", "funding", "seed round", "valuation", "venture capital",
                    "pitch deck"),
    "pricing": ("pricing", "prices", "margins", "discounts", "premium tier", "price increase"),
    "cash flow": ("cash flow", "receivables", "late payments", "line of credit", "bank",
                  "working capital"),
    "digital": ("software", "automation", "ERP", "data", "cloud", "digital tools"),
    "culture": ("culture", "values", "remote work", "engagement", "morale", "retention",
                "team"),
    "sales": ("sales", "pipeline", "CRM", "salespeople", "quota", "leads"),
    "acquisitions": ("acquisition", "acquire", "merger", "due diligence", "integration",
                     "valuation"),
    "operations": ("operations", "processes", "lean", "supply chain", "inventory",
                   "suppliers"),
    "leadership": ("leadership", "managers", "delegate", "coaching", "executive team",
                   "accountability"),
    "marketing": ("marketing", "brand", "website", "social media", "campaigns", "leads"),
    "exit": ("exit", "sell the company", "buyer", "private equity", "valuation",
             "retirement"),
    "compliance": ("compliance", "regulations", "audit", "licensing", "safety",
                   "insurance"),
}

# Sentence frames: several phrasings of one topic, from the words {a} and {b}.
_WANT_FRAMES = (
    "In the next two years I want to {verb} our {a} and {b}.",
    "We need to get {a} right before we can grow.",
    "My biggest goal is {a}, especially {b}.",
    "I keep thinking about {a} and how {b} fits in.",
    "We plan to work on {a} with a clear focus on {b}.",
    "The business needs better {a}; {b} is where we struggle.",
    "Help me figure out {a} and {b}.",
    "What keeps me up at night is {a}.",
)
_OFFER_FRAMES = (
    "I have spent years on {a} and {b}.",
    "I can share what worked for us with {a}.",
    "We built strong {a} and learned a lot about {b}.",
    "Happy to help anyone with {a} or {b}.",
    "Ask me about {a}; we got {b} right the hard way.",
    "I ran {a} at my last company, including {b}.",
)
_FILLERS = (
    "Overall we want the company to keep growing.",
    "Things are busy but good.",
    "Our customers are loyal and the team is strong.",
    "I would like a group that is honest with me.",
    "We have grown every year since we started.",
)
_VERBS = ("improve", "fix", "grow", "rethink", "build", "scale", "strengthen")
# Sentences built from parts, so that no phrasing dominates: opener, subject, action,
# the topic words, tail (an empty part is left out).
_PARTS = {
    "wants": (("", "", "In the next two years", "This year", "Over the next 18 months",
               "Longer term", "Right now", "Before I retire", "By next spring"),
              ("I want to", "we need to", "my plan is to", "I hope to", "we have to",
               "the goal is to", "I would love to"),
              ("improve", "fix", "sort out", "rethink", "get serious about", "invest in",
               "learn about", "figure out", "get better at"),
              ("", "", "", "before we can grow", "without burning out", "with a small team",
               "so the business runs without me", "in a smarter way")),
    "offers": (("", "", "At my last company", "Over the years", "Since we started",
                "In my previous role", "Last year"),
               ("I have", "we have", "my team has", "I personally have"),
               ("worked on", "dealt with", "built up", "fixed", "learned a lot about",
                "spent years on", "led", "solved"),
               ("", "", "", "and can share what worked", "the hard way", "and am happy to help",
                "at scale", "on a tight budget")),
}
# Seeds ``[seed, _INTAKE_STREAM]``: the intake answers of synth_candidates.
_INTAKE_STREAM = 0x7E47


def synth_intake(n: int, *, seed=0, side: str = "wants", topics: tuple[int, int] = (1, 2),
                 empty_rate: float = 0.1, typo_rate: float = 0.03) -> pd.DataFrame:
    """Generate free-text intake answers from hidden topics, with the topics.

    Each member gets 1-2 topics of :data:`INTAKE_TOPICS`; the answer is two or three
    sentences about a single topic (one or two per topic for two), each a random phrasing
    of two of the topic's words (a fixed frame, or one built from random parts), with a
    sentence about nothing in particular mixed in (about 40 words in all). Words of
    more than three letters get a typo (a dropped, doubled or swapped letter) with
    probability ``typo_rate``; an answer is empty with probability ``empty_rate`` (and
    then has no topic).

    Parameters
    ----------
    n : int
        Number of answers.
    seed : int, numpy.random.Generator or None, default=0
        Seed of the generator (or the generator itself).
    side : {"wants", "offers"}, default="wants"
        "wants" answers "what do you want to achieve?", "offers" answers "where could you
        help others?" (other phrasings, same topic words).
    topics : (int, int), default=(1, 2)
        Least and most topics per member.
    empty_rate, typo_rate : float, default=0.1, 0.03
        Share of empty answers; chance of a typo per longer word.

    Returns
    -------
    pandas.DataFrame
        Columns ``text`` (the answer) and ``topics`` (its hidden topics joined with
        ``"; "``, empty for an empty answer).

    Examples
    --------
    >>> df = synth_intake(4, seed=3)
    >>> list(df.columns), len(df)
    (['text', 'topics'], 4)
    >>> bool(df["text"].str.len().gt(0).sum() >= 3)
    True
    """
    if side not in ("wants", "offers"):
        from .errors import ConfigError

        raise ConfigError(f"The 'side' parameter of synth_intake must be 'wants' or 'offers'. "
                          f"Got {side!r} instead.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    frames = _WANT_FRAMES if side == "wants" else _OFFER_FRAMES
    names = list(INTAKE_TOPICS)
    texts, hidden = [], []
    for _ in range(n):
        if rng.random() < empty_rate:
            texts.append("")
            hidden.append("")
            continue
        k = int(rng.integers(topics[0], topics[1] + 1))
        mine = sorted(rng.choice(len(names), size=k, replace=False).tolist())
        sentences = []
        for t in mine:
            words = INTAKE_TOPICS[names[t]]
            for _ in range(int(rng.integers(2, 4) if k == 1 else rng.integers(1, 3))):
                a, b = rng.choice(len(words), size=2, replace=False)
                sentences.append(_sentence(rng, side, frames, words[a], words[b]))
        if rng.random() < 0.7:
            sentences.append(_FILLERS[int(rng.integers(len(_FILLERS)))])
        order = rng.permutation(len(sentences))
        text = " ".join(sentences[o] for o in order)
        texts.append(_typos(text, rng, typo_rate))
        hidden.append("; ".join(names[t] for t in mine))
    return pd.DataFrame({"text": texts, "topics": hidden})


def _sentence(rng: np.random.Generator, side: str, frames: tuple[str, ...], a: str,
              b: str) -> str:
    """One sentence about the topic words ``a`` and ``b``: a fixed frame (a third of the
    time) or one built from parts."""
    if rng.random() < 1 / 3:
        frame = frames[int(rng.integers(len(frames)))]
        return frame.format(a=a, b=b, verb=_VERBS[int(rng.integers(len(_VERBS)))])
    opener, subject, action, tail = (p[int(rng.integers(len(p)))] for p in _PARTS[side])
    obj = (a, f"{a} and {b}", f"our {a}, mostly {b}")[int(rng.integers(3))]
    text = " ".join(x for x in (subject, action, obj, tail) if x)
    text = f"{opener}, {text}" if opener else text[0].upper() + text[1:]
    return text + "."


def _typos(text: str, rng: np.random.Generator, rate: float) -> str:
    """Give some words of more than three letters a typo (drop, double or swap a letter)."""
    words = text.split(" ")
    for k, w in enumerate(words):
        if len(w) > 3 and w.isalpha() and rng.random() < rate:
            p = int(rng.integers(1, len(w) - 1))
            kind = int(rng.integers(3))
            if kind == 0:
                w = w[:p] + w[p + 1:]
            elif kind == 1:
                w = w[:p] + w[p] + w[p:]
            else:
                w = w[:p - 1] + w[p] + w[p - 1] + w[p + 1:]
            words[k] = w
    return " ".join(words)
