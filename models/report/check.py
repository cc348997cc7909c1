"""`veil check ... --report DIR`: the random patches, each backend's outputs tiled side by
side, their differences from the first backend, and the secure backend's phases."""
from __future__ import annotations

import numpy as np

from veil.models.crosscheck import CheckRun, run_check
from veil.models.report.folder import check_report_folder, staged_folder
from veil.models.report.images import mosaic, png_bytes, visible_difference
from veil.models.report.page import Figure, Page
from veil.models.report.sections import PAGE, circuit_section, phase_rows, write_files


def cross_check(spec: str, backends: list[str], lowering: str, patches: int, seed: int,
                key_bits: int = 2048, workers: int | None = None, *,
                report: str) -> tuple[bool, str]:
    """models.crosscheck.cross_check, plus the report folder."""
    target = check_report_folder(report)
    run = run_check(spec, backends, lowering, patches, seed, key_bits, workers)
    ok, text = run.report()
    page, pngs = _page(run, ok, text, spec, seed)
    with staged_folder(target) as folder:
        write_files(folder, page, pngs)
    return ok, f"{text}\nreport: {target / PAGE}"


def output_pixels(run: CheckRun, result: np.ndarray) -> np.ndarray:
    """Output accumulators -> the denoised patch on the 0..255 scale, as run_pixels gives."""
    p = run.program
    return np.clip(p.dequantise_output(p.finish_output(result, run.x)), 0.0, 255.0)


def _page(run: CheckRun, ok: bool, text: str, spec: str, seed: int):
    geometry = run.program.model.geometry
    n = len(run.x)
    pngs, figures = {}, []

    def add(name: str, channels: np.ndarray, caption: str) -> None:
        pngs[name] = png_bytes(channels)
        figures.append(Figure(name, caption, channels.shape[2], channels.shape[1]))

    add("inputs.png", mosaic(run.pixels, geometry.input_size),
        f"{n} random input patches ({geometry.input_size}x{geometry.input_size}), tiled row "
        f"by row; cells past the last patch stay black")
    for i, (name, res) in enumerate(zip(run.names, run.results), 1):
        add(f"output-{i}-{name}.png", mosaic(output_pixels(run, res), geometry.output_size),
            f"{name} outputs ({geometry.output_size}x{geometry.output_size} each)")
    ref_name, ref = run.names[0], run.results[0]
    for i, (name, res) in enumerate(zip(run.names[1:], run.results[1:]), 2):
        diff = np.abs(res.astype(np.float64) - ref.astype(np.float64))
        add(f"difference-{i}-{name}.png", visible_difference(mosaic(diff, geometry.output_size)[0]),
            f"|{ref_name} - {name}| of the output accumulators (black: equal)")
    compared = len(run.names) > 1
    verdict = (("bit-identical: " if ok else "not bit-identical: ") + text.replace("\n", "; ")
               if compared else text)
    secure = next((name for name in run.names if name in run.phases), None)
    summary = "\n".join([text] + [f"{name}: {t}" for name, t in run.traffic.items()])
    stats_text, circuits = circuit_section(run.program)
    facts = [("command", "veil check"), ("model", f"{spec} ({run.program.model.name})"),
             ("backends", ", ".join(run.names)), ("lowering", run.program.lowering.value),
             ("patches", f"{n} (seed {seed})"),
             ("Paillier key", f"{run.program.security.modulus_bits} bits")]
    page = Page(f"Veil check: {spec} on {', '.join(run.names)}", facts, figures, verdict,
                ok if compared else None, summary,
                phase_rows(run.phases.get(secure)) if secure else None, stats_text, circuits)
    return page, pngs
