"""`veil denoise ... --report DIR [--reference CLEAN]`: the run as usual, the plaintext
backend's result beside a secure one, and a page showing both."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from veil.models.images import LoadedImage, read_image, to_integers, write_image
from veil.models.report.folder import check_report_folder, staged_folder
from veil.models.report.images import difference, png_bytes, visible_difference
from veil.models.report.page import Figure, Page
from veil.models.report.quality import SSIM_WINDOW, quality_rows, require_ssim, ssim_window
from veil.models.report.sections import PAGE, circuit_section, phase_rows, write_files
from veil.models.run import DenoiseRun, run_denoise
from veil.util.errors import ImageError, UsageError

REFERENCE_BACKEND = "plaintext"


def denoise_file(noisy: str, output: str, spec: str, backend_name: str,
                 lowering: str = "packed", stride: int | None = None, batch: int = 4096,
                 progress: bool = True, key_bits: int = 2048, workers: int | None = None,
                 dask: str | None = None, *, report: str | None,
                 reference: str | None = None) -> str:
    """models.run.denoise_file, plus the report folder; OUT and the folder are written
    after all the work, so a failure leaves neither."""
    if report is None:
        raise UsageError("--reference is shown in a report: give --report DIR too")
    target = check_report_folder(report)
    ref = _reference(reference, noisy)
    run = run_denoise(noisy, output, spec, backend_name, lowering, stride, batch, progress,
                      key_bits, workers, dask)
    plain = None
    if backend_name != REFERENCE_BACKEND:      # the plaintext reference is fast: run it too
        plain = run_denoise(noisy, None, spec, REFERENCE_BACKEND, lowering, stride, batch,
                            False, key_bits, program=run.program)
    summary = run.summary(output)
    page, pngs = _page(run, plain, ref, summary, noisy, output, spec, reference, lowering)
    with staged_folder(target) as folder:
        write_files(folder, page, pngs)
        write_image(output, run.result, run.image.bit_depth)
    return f"{summary}\nreport: {target / PAGE}"


def _reference(reference: str | None, noisy: str) -> LoadedImage | None:
    if reference is None:
        return None
    require_ssim()
    ref, img = read_image(reference), read_image(noisy)
    if ref.channels.shape != img.channels.shape:
        raise ImageError(f"wrong image size: {reference} is {_size(ref)}, {noisy} is {_size(img)}")
    return ref


def _size(img: LoadedImage) -> str:
    c, h, w = img.channels.shape
    return f"{w}x{h}" + (f"x{c}" if c > 1 else "")


def as_written(channels: np.ndarray, bit_depth: int) -> np.ndarray:
    """What the output file will hold, back on the 0..255 scale as read_image gives it."""
    ints = to_integers(channels, bit_depth).astype(np.float64)
    ints = ints[None] if ints.ndim == 2 else np.moveaxis(ints, 2, 0)
    return ints / (1.0 if bit_depth == 8 else 257.0)


def _page(run: DenoiseRun, plain: DenoiseRun | None, ref: LoadedImage | None, summary: str,
          noisy: str, output: str, spec: str, reference: str | None, lowering: str):
    h, w = run.image.shape
    pngs, figures = {}, []

    def add(name: str, channels: np.ndarray, caption: str) -> None:
        pngs[name] = png_bytes(channels)
        figures.append(Figure(name, caption, w, h))

    if ref is not None:
        add("reference.png", ref.channels, f"reference (clean): {reference}")
    add("noisy.png", run.image.channels, f"noisy input: {noisy}")
    results = [(run.backend, run)] if plain is None else [(plain.backend, plain), (run.backend, run)]
    for name, r in results:
        role = "the reference backend" if name == REFERENCE_BACKEND else "written to " + output
        add(f"result-{_safe(name)}.png", r.result, f"{name} result ({role})")
    identical, verdict = None, (f"Only the {run.backend} backend ran: there is nothing to "
                                f"compare it with (run --backend yao for a secure result).")
    if plain is not None:
        diff = difference(plain.result, run.result)
        identical = not diff.any()
        add("difference.png", visible_difference(diff),
            f"|{plain.backend} - {run.backend}| (black: equal; any difference at least grey 64)")
        verdict = (f"bit-identical: the {run.backend} result equals the {plain.backend} result "
                   f"on every pixel" if identical else
                   f"not bit-identical: {int(np.count_nonzero(diff))} of {diff.size} pixels "
                   f"differ, by at most {float(diff.max()):.4g} grey levels")
    quality, note = None, ""
    if ref is not None:
        depth = run.image.bit_depth
        quality = quality_rows(ref.channels, [("noisy input", run.image.channels)] + [
            (f"{name} result", as_written(r.result, depth)) for name, r in results])
        win = ssim_window((h, w))
        note = (f"PSNR as `veil psnr` prints it (peak 255); SSIM by scikit-image, "
                + (f"{win}x{win} window" if win else "n/a: the image is under 3 pixels a side")
                + ("" if win in (SSIM_WINDOW, None) else " (the image is too small for 7x7)")
                + "; of the results as written to the output file.")
    stats_text, circuits = circuit_section(run.program)
    facts = [("command", "veil denoise"), ("input", noisy), ("output", output),
             ("model", f"{spec} ({run.program.model.name})"), ("backend", run.backend),
             ("lowering", lowering), ("Paillier key", f"{run.program.security.modulus_bits} bits"),
             ("image", f"{_size(run.image)}, {run.image.bit_depth}-bit, {run.patches} patches")]
    if reference is not None:
        facts.append(("reference", reference))
    if plain is not None:
        facts.append(("comparison run", plain.summary("(not written)")))
    page = Page(f"Veil report: {Path(noisy).name} denoised with {spec} on {run.backend}",
                facts, figures, verdict, identical, summary, phase_rows(run.phases),
                stats_text, circuits, quality, note)
    return page, pngs


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name)
