"""The candidates' parts compiled with their group sizes shaped: even sizes, a target size,
per-group bounds. ``match`` solves these parts and ``validate`` checks the very same ones,
so the two commands give the same diagnosis.

Even sizes (sizes that differ by at most one) are the default of ``match`` unless the call
brings sizes of its own (existing groups, per-group bounds, a warm start).
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ConfigError
from .rules import Part, Rules, compile_parts
from .sizes import apply_sizes, choose_count

__all__ = ["resolve_even_sizes", "shaped_parts", "even_sizes_hint", "EVEN_SIZES_HINT"]

#: Added to the reasons of a failed match when even sizes are part of the cause.
EVEN_SIZES_HINT = ("Group sizes were made even (differing by at most one): free sizes within "
                   "the size range (even_sizes=False, --free-sizes) may allow a grouping.")


def resolve_even_sizes(even_sizes, n: int, size_range: tuple[int, int], n_groups, target_size,
                       own_sizes: bool) -> bool:
    """Whether sizes are even: the ``even_sizes`` given, else even unless the call
    brings sizes of its own (``own_sizes``); checks that ``target_size`` agrees with
    ``n_groups`` (the two together mean even sizes).

    >>> resolve_even_sizes(None, 48, (6, 10), 6, None, own_sizes=False)
    True
    >>> resolve_even_sizes(None, 48, (6, 10), None, None, own_sizes=True)
    False
    """
    if target_size is not None and n_groups is not None:
        q, r = divmod(n, n_groups)
        if target_size not in (q, q + (r > 0)):
            held, ok = (f"{q}-{q + 1}", f"{q} or {q + 1}") if r else (f"{q}", f"{q}")
            raise ConfigError(
                f"n_groups={n_groups} (--groups) and target_size={target_size} "
                f"(--target-size) disagree: {n} candidates in {n_groups} groups make groups "
                f"of {held}, not {target_size}. The number of groups wins, as it fixes the "
                f"sizes: give target_size {ok} with it, or only one of the two (target size "
                f"{target_size} alone gives "
                f"{choose_count(n, *size_range, target_size=target_size)} groups).")
        if even_sizes is False:
            raise ConfigError(
                f"target_size={target_size} (--target-size) with n_groups={n_groups} "
                "(--groups) asks for even sizes, but even_sizes=False (--free-sizes) was "
                "given. Drop target_size, or allow even sizes.")
        return True
    if even_sizes is None:
        return not own_sizes
    return bool(even_sizes)


def shaped_parts(table, A, lo: int, hi: int, n_groups, rules: Rules, *,
                 group_sizes: Mapping[str, tuple[int, int]] | None = None,
                 even_sizes: bool = False, target_size: int | None = None) -> list[Part]:
    """The compiled parts, each with its group sizes shaped (even, target, per group)."""
    group_sizes = dict(group_sizes or {})
    used: set[str] = set()

    def shape_sizes(compiled, label: str) -> None:
        # even sizes, target size and per-group bounds tighten each part's group bounds
        used.update(apply_sizes(compiled, group_sizes=group_sizes, even_sizes=even_sizes,
                                target_size=target_size, label=label))

    parts = compile_parts(table, A, min_size=lo, max_size=hi, n_groups=n_groups, rules=rules,
                          after=shape_sizes)
    unknown = sorted(set(group_sizes) - used)
    if unknown:
        names = [g for p in parts if p.compiled is not None for g in p.compiled.group_names or []]
        raise ConfigError(f"{table.source}: group_sizes names unknown group(s) {unknown}; the "
                          f"groups are {names[:20]}{' ...' if len(names) > 20 else ''}.")
    return parts


def _quick_reasons(parts: list[Part]) -> set[str]:
    return {r for p in parts for r in p.reasons}


def even_sizes_hint(table, A, lo: int, hi: int, n_groups, rules: Rules, parts: list[Part], *,
                    group_sizes=None, even_sizes: bool, target_size=None,
                    failed: bool) -> str | None:
    """:data:`EVEN_SIZES_HINT` when a failure may come from even sizes, else None.

    Even sizes are named only when free sizes may help: the quick checks of the same
    parts with free sizes find no clash, or no quick check found one (the search itself
    failed). A clash that free sizes keep (two rules that contradict each other, too few
    members of a kind, more mutual competitors than any sizes allow) gets no hint.
    """
    if not (even_sizes and failed) or target_size is not None or group_sizes:
        return None
    found = _quick_reasons(parts)
    if not found:
        return EVEN_SIZES_HINT
    free = shaped_parts(table, A, lo, hi, n_groups, rules, even_sizes=False)
    return None if _quick_reasons(free) else EVEN_SIZES_HINT
