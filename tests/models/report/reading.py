"""Reading a report back as a person's browser would get it: the page's tags, texts and
numbers (stdlib html.parser), and its PNG files (Pillow)."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from PIL import Image

VOID = {"meta", "link", "img", "br", "hr", "input"}


class Element:
    def __init__(self, tag: str, attrs: dict, parent: "Element | None"):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element] = []
        self.texts: list[str] = []

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(self.texts) + "".join(c.text() for c in self.children)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def find(self, tag: str | None = None, cls: str | None = None) -> list["Element"]:
        return [e for e in self.walk() if (tag is None or e.tag == tag)
                and (cls is None or cls in e.classes)]


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Element("#root", {}, None)

    def handle_starttag(self, tag, attrs):
        el = Element(tag, dict(attrs), self.cur)
        self.cur.children.append(el)
        if tag not in VOID:
            self.cur = el

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Element(tag, dict(attrs), self.cur))

    def handle_endtag(self, tag):
        el = self.cur
        while el is not None and el.tag != tag:
            el = el.parent
        assert el is not None, f"</{tag}> closes nothing"
        self.cur = el.parent

    def handle_data(self, data):
        self.cur.texts.append(data)


def parse(folder: Path) -> Element:
    p = _Parser()
    p.feed((folder / "index.html").read_text(encoding="utf-8"))
    p.close()
    return p.root


def png(path: Path) -> np.ndarray:
    """A valid PNG's pixels (H, W) or (H, W, C); fails on anything else."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.array(im)


def images(root: Element) -> list[str]:
    return [img.attrs["src"] for img in root.find("img")]


def bars(root: Element) -> dict[tuple[str, str], float]:
    """The phase chart: (phase, seconds|up|down) -> its number."""
    chart = root.find("figure", "chart")
    assert len(chart) == 1
    return {(r.attrs["data-phase"], r.attrs["data-measure"]): float(r.attrs["data-value"])
            for r in chart[0].find("rect", "bar")}


def circuit_levels(root: Element) -> list[list[tuple[int, int]]]:
    """Each circuit chart: (AND, XOR+NOT) per AND-depth level, in level order."""
    out = []
    for fig in root.find("figure", "circuit"):
        levels = sorted((int(g.attrs["data-level"]), int(g.attrs["data-and"]),
                         int(g.attrs["data-free"])) for g in fig.find("g", "level"))
        assert [d for d, _, _ in levels] == list(range(len(levels)))
        out.append([(a, f) for _, a, f in levels])
    return out


def summary_phases(summary: str) -> dict[str, tuple[str, str, str]]:
    """`veil denoise`'s printed summary -> phase: (seconds, MB up, MB down) as printed."""
    return {m[0]: m[1:] for m in re.findall(
        r"(provisioning|offline|online) ([\d.]+) s, up ([\d.]+) MB, down ([\d.]+) MB", summary)}
