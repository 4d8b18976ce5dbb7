"""What every benchmark script shares: the line naming the machine, and writing a table into its own
section of benchmarks/README.md (between `<!-- name:begin -->` and `<!-- name:end -->`)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def machine() -> str:
    """`nproc` (the processors this process may use), Python version and architecture."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"`nproc` = {cpus}, Python {platform.python_version()} ({platform.machine()})"


def write_section(name: str, table: str) -> None:
    """Replace what is between the section's markers in benchmarks/README.md with `table`."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = README.read_text("utf-8")
    if begin not in text or end not in text:
        raise SystemExit(f"benchmarks/README.md has no {begin} … {end} section")
    head, rest = text.split(begin, 1)
    README.write_text(f"{head}{begin}\n{table}\n{end}{rest.split(end, 1)[1]}", "utf-8")
