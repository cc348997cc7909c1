"""What both reports share: the circuit section, the phase rows, writing the folder."""
from __future__ import annotations

from pathlib import Path

from veil.compiler.emit import stats, stats_text
from veil.compiler.program import Program
from veil.models.report.charts import circuit_chart, gates_by_level
from veil.models.report.page import Page, render

PAGE = "index.html"


def circuit_section(program: Program) -> tuple[str, list[tuple[str, str]]]:
    """`veil compile --emit stats` for the run's program, and a chart of each distinct
    masked activation circuit (the one the protocol garbles) by AND-depth."""
    charts: dict[int, tuple[list[int], object]] = {}
    for act in program.activations:
        charts.setdefault(id(act.masked), ([], act))[0].append(act.index)
    out = []
    for layers, act in charts.values():
        c = act.masked.counts()
        where = "layer" + ("s " if len(layers) > 1 else " ") + ", ".join(map(str, layers))
        name = f"{act.table.name} ({where}, masked)"
        out.append((f"{name}: {c['AND']} AND, {c['XOR']} XOR, {c['NOT']} NOT, AND-depth "
                    f"{c['and_depth']}, for each of {act.width} neurons",
                    circuit_chart(gates_by_level(act.masked), name)))
    return stats_text(stats(program)), out


def phase_rows(phases: dict | None) -> list[tuple[str, float, int, int]] | None:
    """The secure backend's own per-phase counts (backends.yao Phase: seconds, up, down),
    as measured during the run."""
    if not phases:
        return None
    return [(name, p.seconds, p.up, p.down) for name, p in phases.items()]


def write_files(folder: Path, page: Page, pngs: dict[str, bytes]) -> None:
    for name, data in pngs.items():
        (folder / name).write_bytes(data)
    (folder / PAGE).write_text(render(page), encoding="utf-8")
