"""Line profile of one garbling party: the CPU time of every numpy call of its step code,
per AND gate, with the source line, to see where numpy's floor is (docs/performance.md).

    python bench/gc_profile.py [--scheme three-halves] [--role garbler] [--n 16384] [--model tiny]

Each numpy call of the scheme's step module(s) (xor, and, add, shifts, copies, the hash run,
np.take on the label table) is wrapped and timed with the thread's CPU clock, so load from
other processes does not count; the wrapper itself costs ~0.5 us per call, so the lines sum
to more than the party's unwrapped time, which is printed too (best of --repeat). Rows are
grouped by line; 'first write' rows include the page faults of freshly allocated tables.
"""
from __future__ import annotations

import argparse
import collections
import linecache
import sys
import threading
import time

import numpy as np

from veil.backends.yao.gc import garble as G
from veil.backends.yao.gc import (evaluator, garbler, hash as gc_hash, scratch,
                                  three_halves_evaluator, three_halves_garbler)
from veil.models.catalog import compile_model

MODULES = {("half-gates", "garbler"): (garbler,), ("half-gates", "evaluator"): (evaluator,),
           ("three-halves", "garbler"): (three_halves_garbler, garbler),
           ("three-halves", "evaluator"): (three_halves_evaluator, evaluator)}
NP_CALLS = ("copyto", "negative", "right_shift", "subtract", "bitwise_xor", "bitwise_and", "add")


class Timer:
    def __init__(self) -> None:
        self.cpu: dict[tuple[str, int], float] = collections.defaultdict(float)
        self.calls: collections.Counter = collections.Counter()

    def wrap(self, fn):
        def timed(*a, **k):
            caller = sys._getframe(1)
            t = time.thread_time()
            result = fn(*a, **k)
            key = (caller.f_code.co_filename, caller.f_lineno)
            self.cpu[key] += time.thread_time() - t
            self.calls[key] += 1
            return result
        return timed


class _NumpyProxy:
    def __init__(self, timer: Timer) -> None:
        self._timer = timer

    def __getattr__(self, name):
        value = getattr(np, name)
        return self._timer.wrap(value) if name in NP_CALLS else value


def instrument(timer: Timer, modules) -> None:
    for mod in modules:
        for name in ("_xor", "_and", "_add"):
            if hasattr(mod, name):
                setattr(mod, name, timer.wrap(getattr(mod, name)))
        if hasattr(mod, "colour_masks"):
            mod.colour_masks = timer.wrap(mod.colour_masks)
        mod.np = _NumpyProxy(timer)
    bind = gc_hash.TweakHash.bind

    def timed_bind(self, x, t, **kw):
        run, h = bind(self, x, t, **kw)
        return timer.wrap(run), h
    gc_hash.TweakHash.bind = timed_bind
    scratch._local = threading.local()  # rebind every step with the wrapped hash


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scheme", default="three-halves", choices=("half-gates", "three-halves"))
    ap.add_argument("--role", default="garbler", choices=("garbler", "evaluator"))
    ap.add_argument("--n", type=int, default=16384)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model", default="tiny")
    args = ap.parse_args()
    lin = compile_model(args.model).activation(1).masked_linear
    n, ands = args.n, lin.and_count * args.n
    gc, sec = G.garble(lin, n, 0, scheme=args.scheme)

    def run():
        if args.role == "garbler":
            return G.garble(lin, n, 1, scheme=args.scheme)
        return G.evaluate(lin, gc, dict(sec.zero_labels))
    run()
    plain = float("inf")
    for _ in range(args.repeat):
        t = time.thread_time()
        run()
        plain = min(plain, time.thread_time() - t)
    timer = Timer()
    instrument(timer, MODULES[args.scheme, args.role])
    run()
    timer.cpu.clear()
    timer.calls.clear()
    t = time.thread_time()
    run()
    wrapped = time.thread_time() - t
    print(f"{args.scheme} {args.role}, masked tanh* of {args.model!r} ({lin.and_count} AND), "
          f"{n} instances, block {G.BLOCK} x scale: {plain * 1e9 / ands:.1f} ns/AND unwrapped, "
          f"{wrapped * 1e9 / ands:.1f} wrapped, of which the timed lines "
          f"{sum(timer.cpu.values()) * 1e9 / ands:.1f}:")
    for (path, line), cpu in sorted(timer.cpu.items(), key=lambda kv: -kv[1]):
        src = linecache.getline(path, line).strip()
        print(f"{cpu * 1e9 / ands:7.2f} ns/AND {timer.calls[path, line]:6d} calls  "
              f"{path.rsplit('/', 1)[-1]}:{line:<4} {src[:70]}")


if __name__ == "__main__":
    main()
