"""Every ```python block of docs/api.md and of the README runs as written, in a scratch folder
that holds the checkout's models/ (as the docs say), so the examples cannot rot."""
import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def run_block(code: str, folder: Path, monkeypatch) -> str:
    monkeypatch.chdir(folder)
    (folder / "models").symlink_to(ROOT / "models")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<example>", "exec"), {"__name__": "__example__"})
    return out.getvalue()


DOCS = python_blocks(ROOT / "docs" / "api.md")
README = python_blocks(ROOT / "README.md")


def test_the_examples_are_found():
    assert len(DOCS) >= 8 and len(README) == 1


@pytest.mark.filterwarnings("ignore:768-bit Paillier modulus is insecure")   # as they say
@pytest.mark.parametrize("index", range(len(DOCS)))
def test_docs_api_example(index, tmp_path, monkeypatch):
    run_block(DOCS[index], tmp_path, monkeypatch)     # its asserts hold, nothing raises


def test_readme_example(tmp_path, monkeypatch):
    printed = run_block(README[0], tmp_path, monkeypatch)
    # The README's text says what it prints: the secure run's PSNR, and each layer.
    assert "26.96 dB" in printed
    assert "layer 3  dense 256 -> 64" in printed
