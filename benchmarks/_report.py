"""Shared output of the benchmark scripts: a printed table plus JSON and CSV files."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
from pathlib import Path

import pandas as pd

import peermatch as pm


def write_rows(rows: list[dict], out: str | Path, header: str) -> pd.DataFrame:
    """Print ``header`` (with the machine) and the table; write ``out`` (JSON) and CSV beside."""
    table = pd.DataFrame(rows)
    print(f"{header}, cpu {os.cpu_count()} x {platform.machine()}, peermatch {pm.__version__}")
    print(table.to_string(index=False))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    table.to_csv(out.with_suffix(".csv"), index=False)
    return table


def parse_size(text: str) -> tuple[int, float]:
    """``"n:seconds"`` of a ``--sizes`` argument as ``(n, seconds)``."""
    try:
        n, t = text.split(":")
        return int(n), float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected n:seconds, got {text!r}") from None


def load_families():
    """``benchmarks/families.py`` as a module (the programme families and their runners),
    for the scripts that run peermatch on them."""
    if "_bench_families" in sys.modules:
        return sys.modules["_bench_families"]
    path = Path(__file__).resolve().parent / "families.py"
    spec = importlib.util.spec_from_file_location("_bench_families", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["_bench_families"] = module
    spec.loader.exec_module(module)
    return module
