"""The report page: one self-contained HTML file (inline CSS and SVG, no script, nothing
fetched but the PNG files beside it). Every piece of text is html.escape'd: spec names,
paths and summaries come from the user."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

from veil.models.report.charts import phase_chart

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.figures { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: 0.9em; overflow-wrap: anywhere; }
figure.circuit { margin-top: 1.2em; }
figure img { image-rendering: pixelated; max-width: 100%; height: auto; border: 1px solid #888; }
table { border-collapse: collapse; } td, th { padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.identical { color: #1e7b34; font-weight: bold; } .different { color: #b03a2e; font-weight: bold; }
pre { background: #f5f5f5; padding: 0.6em; white-space: pre-wrap; font-size: 0.85em; }
"""


@dataclass
class Figure:
    file: str           # a PNG in the report folder
    caption: str
    width: int          # its pixels
    height: int


@dataclass
class Page:
    title: str
    facts: list[tuple[str, str]]                 # what ran: command, model, backend, files
    figures: list[Figure]
    verdict: str                                 # bit-identical or not, in words
    identical: bool | None                       # None: nothing was compared
    summary: str                                 # the run's own summary, as printed
    phases: list[tuple[str, float, int, int]] | None
    circuit_stats: str                           # `veil compile --emit stats`
    circuits: list[tuple[str, str]] = field(default_factory=list)    # (title, svg)
    quality: list[tuple[str, float, float | None]] | None = None     # (image, PSNR, SSIM)
    quality_note: str = ""


def render(page: Page) -> str:
    parts = [f"<h1>{escape(page.title)}</h1>", _facts(page.facts),
             "<h2>Images</h2>", _figures(page.figures), _verdict(page)]
    if page.quality is not None:
        parts += ["<h2>Quality against the reference</h2>", _quality(page.quality, page.quality_note)]
    parts += ["<h2>Time and bytes per phase</h2>", _phases(page)]
    parts += ["<h2>Activation circuits</h2>",
              f'<pre class="stats">{escape(page.circuit_stats)}</pre>']
    parts += [f'<figure class="circuit">{svg}<figcaption>{escape(title)}</figcaption></figure>'
              for title, svg in page.circuits]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(page.title)}</title><link rel=\"icon\" href=\"data:,\">"
            f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(parts) + "\n</body></html>\n")


def _facts(facts: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    return f'<table class="facts">{rows}</table>'


def _figures(figures: list[Figure]) -> str:
    out = []
    for f in figures:
        scale = max(1, 256 // max(f.width, f.height, 1))      # small images enlarged
        out.append(f'<figure class="image" style="max-width: {max(f.width * scale, 160)}px">'
                   f'<img src="{escape(f.file)}" alt="{escape(f.caption)}" '
                   f'width="{f.width * scale}" height="{f.height * scale}">'
                   f"<figcaption>{escape(f.caption)}</figcaption></figure>")
    return f'<div class="figures">{"".join(out)}</div>'


def _verdict(page: Page) -> str:
    cls = {True: "identical", False: "different", None: "alone"}[page.identical]
    return f'<p class="verdict {cls}">{escape(page.verdict)}</p>'


def _quality(rows: list[tuple[str, float, float | None]], note: str) -> str:
    body = "".join(
        f'<tr><td>{escape(label)}</td>'
        f'<td class="num psnr" data-value="{p!r}">{escape(_db(p))}</td>'
        f'<td class="num ssim" data-value="{"" if s is None else repr(s)}">'
        f'{"n/a" if s is None else f"{s:.4f}"}</td></tr>'
        for label, p, s in rows)
    return (f'<table class="quality"><tr><th>image</th><th>PSNR</th><th>SSIM</th></tr>{body}'
            f'</table><p>{escape(note)}</p>')


def _db(value: float) -> str:
    return "identical (infinite)" if math.isinf(value) else f"{value:.2f} dB"


def _phases(page: Page) -> str:
    summary = f'<pre class="summary">{escape(page.summary)}</pre>'
    if not page.phases:
        return (summary + '<p class="no-phases">No secure backend ran, so there are no '
                "phases to show (the secure backend counts time and bytes per phase).</p>")
    rows = "".join(f'<tr><td>{escape(n)}</td><td class="num">{s:.2f} s</td>'
                   f'<td class="num">{u:,}</td><td class="num">{d:,}</td></tr>'
                   for n, s, u, d in page.phases)
    table = ('<table class="phases"><tr><th>phase</th><th>wall time</th><th>bytes up</th>'
             f'<th>bytes down</th></tr>{rows}</table>')
    return summary + f'<figure class="chart">{phase_chart(page.phases)}</figure>' + table
