"""The weights of the affinity components, checked once, read from and written to TOML.

:class:`Weights` is how much each component of ``A = sum_k w_k * S_k`` counts (see
:mod:`peermatch.scoring` for the components). Weights are relative: only their ratios
shape a grouping.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from .errors import ConfigError
from .features import MAX_WEIGHT, MIN_SCALE, ColumnSpec, is_finite_number, weight_problem
from .tomlfile import read_toml, toml_value

__all__ = ["BASE_COMPONENTS", "MAX_WEIGHT", "WEIGHT_KEYS", "Weights"]

#: The built-in affinity components, in the order they are summed.
BASE_COMPONENTS: tuple[str, ...] = ("goals", "inspiration", "caliber", "diversity")
#: The keys of a ``[weights]`` table.
WEIGHT_KEYS: tuple[str, ...] = BASE_COMPONENTS + ("caliber_scale", "columns")


@dataclass(frozen=True)
class Weights:
    """How much each affinity component counts.

    Parameters
    ----------
    goals : float, default=1.0
        Shared goals (Jaccard overlap of goal sets).
    inspiration : float, default=1.0
        Expertise of one meets goals of the other, both ways, mutual pairs first.
    caliber : float, default=0.5
        Similar company size.
    diversity : float, default=0.3
        Different sectors.
    caliber_scale : float, default=1.0
        ``tau`` of the caliber component: sizes ``tau`` decades apart score ``exp(-1)``.
        Must be positive.
    columns : tuple of ColumnSpec, default=()
        User columns, each with its own mode and weight; free-text columns
        (:func:`~peermatch.features.TextColumn`) too.

    Notes
    -----
    Weights are "how much you care" and may be any float of magnitude at most
    :data:`MAX_WEIGHT` (``1e12``; only their ratios matter, and larger ones would overflow
    the affinity): 0 switches a component off, a negative weight pushes such pairs apart
    (e.g. ``diversity=-1`` groups by industry). Validation happens at construction; the
    dataclass is frozen.

    Examples
    --------
    >>> w = Weights(caliber=0.0)
    >>> w.to_dict()["caliber"], Weights.from_dict(w.to_dict()) == w
    (0.0, True)
    """

    goals: float = 1.0
    inspiration: float = 1.0
    caliber: float = 0.5
    diversity: float = 0.3
    caliber_scale: float = 1.0
    columns: tuple[ColumnSpec, ...] = ()

    def __post_init__(self):
        self.validate()

    def validate(self) -> Weights:
        """Check every field; raise :class:`~peermatch.errors.ConfigError` if one is bad.

        Returns
        -------
        Weights
            ``self``, so calls chain.
        """
        for name in BASE_COMPONENTS:
            v = getattr(self, name)
            bad = weight_problem(v)
            if bad:
                raise ConfigError(f"The {name!r} parameter of Weights must be {bad}. "
                                  f"Got {v!r} instead.")
            object.__setattr__(self, name, float(v))
        v = self.caliber_scale
        if not is_finite_number(v):
            raise ConfigError(f"The 'caliber_scale' parameter of Weights must be a finite number. "
                              f"Got {v!r} instead.")
        object.__setattr__(self, "caliber_scale", float(v))
        if self.caliber_scale <= 0:
            raise ConfigError(f"The 'caliber_scale' parameter of Weights must be > 0 (decades "
                              f"of company size). Got {self.caliber_scale!r} instead.")
        if self.caliber_scale < MIN_SCALE:
            raise ConfigError(f"The 'caliber_scale' parameter of Weights must be at least "
                              f"{MIN_SCALE:g} (decades of company size). Got "
                              f"{self.caliber_scale!r} instead.")
        cols = self.columns
        if isinstance(cols, ColumnSpec | Mapping | str):
            cols = (cols,)
        specs = tuple(c if isinstance(c, ColumnSpec) else ColumnSpec.from_dict(c) for c in cols)
        names = [c.name for c in specs]
        dup = sorted({x for x in names if names.count(x) > 1})
        if dup:
            raise ConfigError(f"The 'columns' parameter of Weights names column(s) {dup} more "
                              f"than once; give each column one entry.")
        object.__setattr__(self, "columns", specs)
        return self

    @classmethod
    def from_dict(cls, d: Mapping, *, folder: str | os.PathLike | None = None) -> Weights:
        """Build weights from a mapping such as the ``[weights]`` table of a TOML file.

        Parameters
        ----------
        d : mapping
            Keys among ``goals, inspiration, caliber, diversity, caliber_scale, columns``;
            ``columns`` is a list of mappings with keys of :class:`ColumnSpec`.
        folder : str, os.PathLike or None, default=None
            The folder of the file ``d`` was read from: a relative ``vectors`` path of a
            text column is read from there. None: from the current directory.

        Raises
        ------
        ConfigError
            An unknown key (the message lists the valid ones) or a bad value.

        Examples
        --------
        >>> Weights.from_dict({"goals": 2, "columns": [{"name": "tenure"}]}).columns[0].name
        'tenure'
        """
        if not isinstance(d, Mapping):
            raise ConfigError(f"Weights must be given as a table (mapping). Got {d!r} instead.")
        unknown = sorted(set(d) - set(WEIGHT_KEYS))
        if unknown:
            raise ConfigError(f"Unknown weights key(s) {unknown}; valid keys are "
                              f"{list(WEIGHT_KEYS)}.")
        kw = dict(d if folder is None else _vectors_beside(d, os.fspath(folder)))
        if "columns" in kw:
            cols = kw["columns"]
            if isinstance(cols, Mapping) or not isinstance(cols, Sequence) or isinstance(cols,
                                                                                        str):
                raise ConfigError("The 'columns' key of the weights must be a list of tables "
                                  "([[weights.columns]] entries).")
            kw["columns"] = tuple(ColumnSpec.from_dict(c) for c in cols)
        return cls(**kw)

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> Weights:
        """Read the ``[weights]`` table of a TOML file.

        Format::

            [weights]
            goals = 1.0
            inspiration = 1.0
            caliber = 0.5
            diversity = 0.3
            caliber_scale = 1.0

            [[weights.columns]]
            name = "years_in_role"
            kind = "numeric"        # or "categorical"
            mode = "dissimilar"     # or "similar"
            weight = 0.2

            [[weights.columns]]
            name = "intake_goals"
            kind = "text"
            side = "wants"          # or "offers", "own"
            weight = 1.0
            # vectors = "goals.npy" # optional: vectors made elsewhere replace TF-IDF

        A relative ``vectors`` path is read from the TOML file's folder.

        Raises
        ------
        ConfigError
            Missing file, invalid TOML, no ``[weights]`` table, unknown key or bad value;
            the message names the file.
        """
        name = os.fspath(path)
        doc = read_toml(path, "weights")
        if "weights" not in doc:
            raise ConfigError(f"{name}: no [weights] table; found tables {sorted(doc)}.")
        try:
            return cls.from_dict(doc["weights"], folder=os.path.dirname(name))
        except ConfigError as exc:
            raise ConfigError(f"{name} [weights]: {exc}") from None

    def to_dict(self) -> dict:
        """Return the weights as plain types (what :meth:`from_dict` reads back)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "columns"}
        out["columns"] = [c.to_dict() for c in self.columns]
        return out

    def to_toml(self) -> str:
        """Return the weights as a TOML ``[weights]`` table (what :meth:`from_toml` reads).

        Examples
        --------
        >>> print(Weights(columns=(ColumnSpec("tenure"),)).to_toml(), end="")
        [weights]
        goals = 1.0
        inspiration = 1.0
        caliber = 0.5
        diversity = 0.3
        caliber_scale = 1.0
        <BLANKLINE>
        [[weights.columns]]
        name = "tenure"
        kind = "numeric"
        mode = "similar"
        weight = 1.0
        """
        d = self.to_dict()
        lines = ["[weights]"]
        lines += [f"{k} = {d[k]!r}" for k in WEIGHT_KEYS if k != "columns"]
        for col in d["columns"]:
            lines += ["", "[[weights.columns]]"]
            lines += [f"{k} = {toml_value(v)}" for k, v in col.items()]
        return "\n".join(lines) + "\n"


def _vectors_beside(table: Mapping, folder: str):
    """The ``[weights]`` table with relative ``vectors`` file paths joined to ``folder``."""
    cols = table.get("columns")
    if not isinstance(cols, list):
        return table
    fixed = []
    for c in cols:
        v = c.get("vectors") if isinstance(c, Mapping) else None
        if isinstance(v, str) and v and not os.path.isabs(v):
            c = {**c, "vectors": os.path.join(folder, v)}
        fixed.append(c)
    return {**table, "columns": fixed}
