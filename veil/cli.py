"""The `veil` command line. It only parses arguments and delegates; every expected failure
reaches the user as one line on stderr and a non-zero exit status, never a traceback."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from veil.cli_errors import UserError, one_line_errors  # noqa: F401  (UserError: re-exported)
from veil.cli_options import dask_option, key_bits_option, lowering_option, workers_option


def _write_text(path: str | None, text: str) -> None:
    if path is None:
        click.echo(text, nl=False)
        return
    from veil.util.atomic import atomic_write_text
    atomic_write_text(Path(path), text)


_WARNED: set[str] = set()


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line each, every distinct message once (both parties of a local run
    may warn about the same thing)."""
    if str(message) not in _WARNED:
        _WARNED.add(str(message))
        click.echo(f"warning: {message}", err=True)


@click.group()
@click.version_option(package_name="veil")
def main():
    """Veil: secure neural-network image denoising, built as a compiler."""
    import warnings
    _WARNED.clear()
    warnings.showwarning = _one_line_warning


@main.command("compile")
@click.argument("spec")
@click.option("--emit", "what", type=click.Choice(["stats", "ir", "bristol", "dot"]),
              default="stats", show_default=True)
@click.option("--layer", type=int, help="Layer (from 1) whose activation circuit to emit.")
@click.option("--unmasked", is_flag=True, help="The bare activation instead of the masked one.")
@click.option("--json", "as_json", is_flag=True, help="Stats as JSON.")
@lowering_option
@click.option("--kappa", type=int, default=40, show_default=True,
              help="Statistical security of the masks (bits).")
@key_bits_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE.")
@one_line_errors
def compile_cmd(spec, what, layer, unmasked, as_json, lowering, kappa, key_bits, output):
    """Compile SPEC (a .veil file or a built-in model name) and emit stats, IR or a circuit."""
    from veil.compiler.emit import emit
    from veil.models.catalog import compile_model
    program = compile_model(spec, lowering, key_bits=key_bits, kappa=kappa)
    _write_text(output, emit(program, what, layer, unmasked, as_json))


@main.command()
@click.argument("clean", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--sigma", type=float, default=25.0, show_default=True,
              help="Noise standard deviation on the 0..255 scale.")
@click.option("--seed", type=int, default=0, show_default=True)
@one_line_errors
def noise(clean, output, sigma, seed):
    """Add white Gaussian noise to CLEAN (rounded and clipped, like a saved camera image)."""
    from veil.models.images import read_image, write_image
    from veil.models.noise import add_noise
    if sigma < 0:
        raise UserError("--sigma must be non-negative")
    img = read_image(clean)
    write_image(output, add_noise(img.channels, sigma, seed), img.bit_depth)


@main.command()
@click.argument("noisy", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--model", "spec", default="compact", show_default=True,
              help="A .veil spec or a built-in model name.")
@click.option("--backend", default="plaintext", show_default=True,
              help="float, float-approx, plaintext or yao (secure).")
@lowering_option
@click.option("--stride", type=int, help="Patch stride (default: the model's).")
@click.option("--batch", type=int, default=4096, show_default=True, help="Patches per batch.")
@key_bits_option
@workers_option
@dask_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--report", "report_dir", type=click.Path(),
              help="Also write an HTML report (index.html and PNGs) into this folder.")
@click.option("--reference", type=click.Path(dir_okay=False),
              help="The clean image: PSNR and SSIM in the report.")
@one_line_errors
def denoise(noisy, output, spec, backend, lowering, stride, batch, key_bits, workers, dask,
            quiet, report_dir, reference):
    """Denoise the image NOISY with a model and write OUT at the input's bit depth."""
    from veil.models.run import denoise_file
    if report_dir is not None or reference is not None:      # the same run, plus a page
        from veil.models.report.denoise import denoise_file
        denoise_file = functools.partial(denoise_file, report=report_dir, reference=reference)
    summary = denoise_file(noisy, output, spec, backend, lowering, stride, batch,
                           progress=not quiet, key_bits=key_bits, workers=workers, dask=dask)
    click.echo(summary, err=True)


@main.command()
@click.argument("reference", type=click.Path(dir_okay=False))
@click.argument("image", type=click.Path(dir_okay=False))
@one_line_errors
def psnr(reference, image):
    """Peak signal-to-noise ratio of IMAGE against REFERENCE, in dB."""
    from veil.models.images import read_image
    from veil.models.noise import image_psnr
    value = image_psnr(read_image(reference), read_image(image), reference, image)
    click.echo(f"{value:.2f} dB")


@main.command()
@click.argument("spec")
@click.option("--backends", default="plaintext", show_default=True,
              help="Comma-separated exact backends; every one is compared with the first.")
@lowering_option
@click.option("--patches", type=int, default=16, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@key_bits_option
@workers_option
@click.option("--report", "report_dir", type=click.Path(),
              help="Also write an HTML report (index.html and PNGs) into this folder.")
@one_line_errors
def check(spec, backends, lowering, patches, seed, key_bits, workers, report_dir):
    """Run random patches through several backends and compare them bit for bit."""
    from veil.models.crosscheck import cross_check
    if report_dir is not None:
        from veil.models.report.check import cross_check as check_with_report
        ok, text = check_with_report(spec, backends.split(","), lowering, patches, seed,
                                     key_bits, workers, report=report_dir)
    else:
        result = cross_check(spec, backends.split(","), lowering, patches, seed, key_bits,
                             workers)
        ok, text = result.identical, result.summary
    click.echo(text)
    sys.exit(0 if ok else 1)


@main.command()
@click.argument("spec")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Where to write the weights (default: the .npz the spec names).")
@click.option("--steps", type=int, default=240_000, show_default=True)
@click.option("--batch", type=int, default=256, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--data", default="wheels", show_default=True,
              help="Training pictures: wheels (scikit-image and scikit-learn) or skimage16.")
@click.option("--checkpoint", type=click.Path(dir_okay=False),
              help="Save the whole training state to this file (atomically) as it goes.")
@click.option("--every", type=int, default=5000, show_default=True,
              help="Steps between checkpoints.")
@click.option("--resume", is_flag=True, help="Continue the run saved in --checkpoint.")
@click.option("--until", type=int, help="Stop after this step (checkpoint written), to resume later.")
@click.option("--lr", type=float, default=1e-3, show_default=True,
              help="Adam's learning rate at the start (cosine decay to --lr-final).")
@click.option("--lr-final", type=float, default=1e-5, show_default=True)
@click.option("--init", type=click.Path(dir_okay=False, exists=True),
              help="Start from these weights (a warm restart) instead of random ones.")
@one_line_errors
def train(spec, output, steps, batch, seed, data, checkpoint, every, resume, until, lr,
          lr_final, init):
    """Train the weights of SPEC on pictures from the scikit-image/-learn wheels (sigma 25)."""
    from veil.models.train_cli import train_spec
    path = train_spec(spec, output, steps, batch, seed, log=lambda s: click.echo(s, err=True),
                      dataset=data, checkpoint=checkpoint, every=every, resume=resume,
                      until=until, lr=lr, lr_final=lr_final, init=init)
    if path is not None:
        click.echo(f"weights written to {path}", err=True)


from veil.bench_cli import bench  # noqa: E402  (modules of their own, registered here)
from veil.cli_onnx import export_cmd, import_cmd  # noqa: E402
from veil.cli_service import cloud, owner, user  # noqa: E402

for _group in (bench, user, owner, cloud, import_cmd, export_cmd):
    main.add_command(_group)


if __name__ == "__main__":
    main()
