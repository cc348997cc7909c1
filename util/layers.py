"""The import layers of veil, stated once, as data: tests/test_layers.py enforces them.

An order is a tuple of layers, lowest first; a layer is a tuple of peer units (dotted module
prefixes). A module belongs to the unit with the longest matching prefix, so an order's last
layer can be its own package: the catch-all for the package's other modules (the CLI in
`veil`, whatever names the built-in backends in `veil.backends`, backend.py in
`veil.backends.yao`). A module may import its own unit and any unit of a lower layer: never
a higher layer, never a peer. Units with an order in SUBLAYERS are ordered inside likewise.
"""
from __future__ import annotations

LAYERS: tuple[tuple[str, ...], ...] = (
    ("veil.util",),            # atomic files, errors: no veil imports
    ("veil.circuits",),
    ("veil.compiler",),
    ("veil.backends",),
    ("veil.models",),
    ("veil.service",),
    ("veil.bench",),
    ("veil",),                 # the package root: the click CLI
)

SUBLAYERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "veil.backends": (
        ("veil.backends.base", "veil.backends.executor"),
        ("veil.backends.worker_state", "veil.backends.dask_executor"),   # on an executor
        ("veil.backends.registry",),    # backends register themselves into it
        ("veil.backends.plaintext", "veil.backends.float_backend", "veil.backends.yao"),
        ("veil.backends",),    # e.g. a catalog importing the built-in backends
    ),
    "veil.backends.yao": (
        ("veil.backends.yao.framing",),
        ("veil.backends.yao.paillier", "veil.backends.yao.gc", "veil.backends.yao.ot"),
        ("veil.backends.yao.lowerings",),
        ("veil.backends.yao",),    # backend.py: the Backend on top of the lowerings
    ),
}
