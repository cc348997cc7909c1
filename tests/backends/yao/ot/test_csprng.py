"""The OT modules draw randomness only from the OS CSPRNG (`secrets`), and unpickle nothing."""
import ast
import re
from pathlib import Path

import veil.backends.yao.ot as ot_pkg

MODULES = sorted(Path(ot_pkg.__file__).parent.glob("*.py"))
FORBIDDEN = [r"\bimport\s+random\b", r"\bfrom\s+random\b", r"np\.random", r"numpy\.random",
             r"default_rng", r"\bpickle\b", r"\beval\(", r"\bexec\("]


def test_modules_found():
    names = {p.name for p in MODULES}
    assert {"group.py", "base.py", "extension.py", "hash.py"} <= names


def test_no_weak_randomness_or_unpickling_in_sources():
    for path in MODULES:
        text = path.read_text()
        for pattern in FORBIDDEN:
            assert not re.search(pattern, text), f"{path.name}: {pattern}"


def test_imports_are_as_expected():
    """Only `secrets` for randomness: no module imports random, numpy.random, os.urandom
    wrappers of its own, or anything else that could hand out a weak RNG."""
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                assert not name.startswith("random"), f"{path.name} imports {name}"
                assert "numpy.random" not in name, f"{path.name} imports {name}"
    drawing = [p.name for p in MODULES if "secrets." in p.read_text()]
    assert sorted(drawing) == ["extension.py", "group.py", "run.py"]
