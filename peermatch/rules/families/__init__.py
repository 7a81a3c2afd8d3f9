"""The rule families, one module each; importing this package registers them all.

Every module here (a name without a leading underscore) is imported, in name order,
and registers its family with :func:`peermatch.rules.registry.register`; the order
the families run in is their :attr:`~peermatch.rules.base.Family.order`, not the
order of the files. A new family is one new module here: nothing else lists it.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["load"]


def load() -> list[str]:
    """Import every family module of this package (once); return their names."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names


load()
