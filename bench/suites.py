"""The models `veil bench --model NAME` measures, by name: a module of its own so the CLI can
offer the names without importing the lowerings."""
from __future__ import annotations

MODELS = {"all": ("compact", "wide", "burger"), "compact": ("compact",), "wide": ("wide",),
          "burger": ("burger",), "tiny": ("tiny",)}
