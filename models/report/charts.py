"""Small hand-made SVG charts for the report (no plotting library): time and bytes per
phase of the secure backend, and an activation circuit's gates by AND-depth. Every bar
carries its number in data- attributes and a <title>, so the numbers can be read back."""
from __future__ import annotations

from html import escape

from veil.circuits.circuit import Circuit
from veil.circuits.gates import Op

AND_COLOUR, FREE_COLOUR = "#c0392b", "#9aa5b1"
UP_COLOUR, DOWN_COLOUR, TIME_COLOUR = "#2e86c1", "#e67e22", "#27ae60"


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
            f'font-family="sans-serif" font-size="12">' + "".join(body) + "</svg>")


def _bar(x: float, y: float, w: float, h: float, colour: str, title: str, **data) -> str:
    attrs = "".join(f' data-{k}="{escape(str(v))}"' for k, v in data.items())
    return (f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.5):.1f}" '
            f'height="{h:.1f}" fill="{colour}"{attrs}><title>{escape(title)}</title></rect>')


def _text(x: float, y: float, s: str, anchor: str = "start", **style) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in style.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(s)}</text>'


def phase_chart(phases: list[tuple[str, float, int, int]]) -> str:
    """(phase, seconds, bytes up, bytes down) per phase -> two panels of horizontal bars:
    wall time, and megabytes each way (labels at the precision `veil denoise` prints)."""
    label_w, bar_w, row, gap = 100, 300, 18, 4
    top_s = max((s for _, s, _, _ in phases), default=0) or 1.0
    top_b = max((max(u, d) for _, _, u, d in phases), default=0) or 1
    time_h = 24 + len(phases) * (row + gap)
    height = time_h + 30 + len(phases) * (2 * row + 3 * gap)
    body = [_text(0, 14, "wall time per phase (seconds)", font_weight="bold")]
    y = 24
    for name, seconds, _, _ in phases:
        body.append(_text(label_w - 6, y + row - 5, name, "end"))
        w = bar_w * seconds / top_s
        body.append(_bar(label_w, y, w, row, TIME_COLOUR, f"{name}: {seconds:.3f} s",
                         phase=name, measure="seconds", value=repr(seconds)))
        body.append(_text(label_w + w + 6, y + row - 5, f"{seconds:.1f} s"))
        y += row + gap
    y += 10
    body.append(_text(0, y + 10, "bytes per phase (MB; up: user to cloud, down: cloud to user)",
                      font_weight="bold"))
    y += 20
    for name, _, up, down in phases:
        body.append(_text(label_w - 6, y + row + 2, name, "end"))
        for direction, count, colour in (("up", up, UP_COLOUR), ("down", down, DOWN_COLOUR)):
            w = bar_w * count / top_b
            body.append(_bar(label_w, y, w, row, colour, f"{name} {direction}: {count:,} bytes",
                             phase=name, measure=direction, value=count))
            body.append(_text(label_w + w + 6, y + row - 5, f"{direction} {count / 1e6:.1f} MB"))
            y += row + gap
        y += gap
    return _svg(label_w + bar_w + 110, max(height, y + 4), "time and bytes per phase", body)


def gates_by_level(circuit: Circuit) -> list[tuple[int, int]]:
    """(AND gates, free XOR/NOT gates) at each AND-depth 0..D: a gate's depth is the most
    AND gates on a path into it, so level d's ANDs can be garbled together after level d-1."""
    depth = circuit.and_depths()
    levels = [[0, 0] for _ in range(max(depth.values(), default=0) + 1)]
    for wire, d in depth.items():
        op = circuit.gate(wire).op
        if op is Op.AND:
            levels[d][0] += 1
        elif op in (Op.XOR, Op.NOT):
            levels[d][1] += 1
    return [(a, f) for a, f in levels]


def circuit_chart(levels: list[tuple[int, int]], name: str) -> str:
    """Vertical bars per AND-depth: AND gates (the garbled cost) below, free gates above."""
    n = max(len(levels), 1)
    bw = max(3, min(16, 600 // n))
    left, plot_h, top = 40, 150, 22
    top_count = max((a + f for a, f in levels), default=0) or 1
    body = [_text(0, 14, f"{name}: gates by AND-depth", font_weight="bold"),
            _text(left - 4, top + 8, str(top_count), "end"), _text(left - 4, top + plot_h, "0", "end")]
    for d, (ands, free) in enumerate(levels):
        x = left + d * bw
        h_and, h_free = plot_h * ands / top_count, plot_h * free / top_count
        title = f"depth {d}: {ands} AND, {free} XOR/NOT"
        body.append(f'<g class="level" data-level="{d}" data-and="{ands}" data-free="{free}">')
        body.append(_bar(x, top + plot_h - h_and, bw - 1, h_and, AND_COLOUR, title))
        body.append(_bar(x, top + plot_h - h_and - h_free, bw - 1, h_free, FREE_COLOUR, title))
        body.append("</g>")
        if d % 10 == 0:
            body.append(_text(x + bw / 2, top + plot_h + 14, str(d), "middle"))
    legend_y = top + plot_h + 32
    body += [_bar(left, legend_y - 10, 10, 10, AND_COLOUR, "AND"),
             _text(left + 14, legend_y, "AND (garbled, the cost)"),
             _bar(left + 170, legend_y - 10, 10, 10, FREE_COLOUR, "XOR/NOT"),
             _text(left + 184, legend_y, "XOR, NOT (free)"),
             _text(left + 330, legend_y, "x: AND-depth, y: gates")]
    return _svg(max(left + n * bw + 10, 520), legend_y + 6, f"{name}: gates by AND-depth", body)
