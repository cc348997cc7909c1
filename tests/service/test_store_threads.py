"""The cloud store under concurrent writers and readers."""
from __future__ import annotations

import threading

from veil.service.store import PublishRefused, StoreConflict

from .store_testkit import alice, path, store  # noqa: F401  (fixtures)
from .store_testkit import blob_files, by_owner


# -- threads -----------------------------------------------------------------------------------

def _run_threads(n: int, target) -> None:
    errors = []

    def wrapped(i):
        try:
            target(i)
        except BaseException as e:                        # reported below, not swallowed
            errors.append(e)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def _flip(j: int) -> bytes:
    return b"XY"[j % 2:j % 2 + 1] * 100


def test_concurrent_put_model_and_usage(store, path, alice):
    # "shared" flips between two contents, so a file one thread is about to commit is often
    # one another thread's replacement has just left unused: the deletion must not hit it.
    # Its counters are drawn before the race, so a publish that loses it to a larger counter
    # is refused as stale (as a replay would be): the accepted ones are counted.
    accepted = []

    def work(i):
        for j in range(10):
            try:
                store.put_model("shared", alice, {"by": i, "round": j}, {"w": _flip(i + j)},
                                **by_owner())
                accepted.append((i, j))
            except PublishRefused as e:
                assert "is not newer than" in str(e)
            store.put_model(f"own{i}", alice, {"round": j}, {"w": f"own {i} {j}".encode()},
                            **by_owner())
            store.record_usage(alice, "shared", i + 1, at=float(j))
            rec = store.get_model("shared", alice)
            try:
                assert store.read_blob(rec, "w") == _flip(sum(rec.manifest.values()))
            except StoreConflict:                         # replaced meanwhile: fine
                pass

    _run_threads(8, work)
    shared = store.get_model("shared", alice)
    assert shared.version == len(accepted)                # every replacement counted once
    assert store.read_blob(shared, "w") == _flip(sum(shared.manifest.values()))
    for i in range(8):
        own = store.get_model(f"own{i}", alice)
        assert own.version == 10 and store.read_blob(own, "w") == f"own {i} 9".encode()
    assert store.usage_since(alice, "shared", 0) == 10 * sum(range(1, 9))
    live = [shared] + [store.get_model(f"own{i}", alice) for i in range(8)]
    assert blob_files(path) == {f"{r.sha256}.blob" for rec in live for r in rec.blobs.values()}


def test_readers_see_whole_versions_while_a_writer_replaces(store, alice):
    def blobs(v):
        return {"a": f"a{v}".encode(), "b": f"b{v}".encode() * 1000}

    store.put_model("m", alice, {"v": 1}, blobs(1), **by_owner())
    done = threading.Event()
    seen = []

    def work(i):
        if i == 0:
            for v in range(2, 30):
                assert store.put_model("m", alice, {"v": v}, blobs(v), **by_owner()) == v
            done.set()
            return
        while not done.is_set():
            rec = store.get_model("m", alice)
            try:
                got = {k: store.read_blob(rec, k) for k in rec.blobs}
            except StoreConflict:                         # replaced under us: allowed, retried
                continue
            assert got == blobs(rec.manifest["v"])
            seen.append(rec.version)

    _run_threads(4, work)
    assert seen and store.get_model("m", alice).version == 29
