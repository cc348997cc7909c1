"""A real cloud serves compact's full 16-patch batches: the user's OT request for them is
2.3 MB, more than a stranger may send (2 MiB), so the cloud must raise its cap once the
user has logged in. Before that fix `veil user denoise` of any compact image larger than a
few patches failed with 'OT message of 2293760 bytes exceeds the limit of 2097152'."""
from __future__ import annotations

import warnings

import numpy as np

from veil.backends.plaintext import PlaintextBackend
from veil.backends.yao import paillier as P
from veil.models.catalog import compile_model
from veil.service.limits import FRAME_BYTES_BEFORE_LOGIN
from veil.service.owner_client import publish
from veil.service.user_client import BATCH, RemoteSession

from .publish_testkit import BITS, cloud, owners, users  # noqa: F401 (fixtures)


def test_compact_batches_larger_than_a_strangers_frame(tmp_path, owners, users):
    program = compile_model("compact", "packed", BITS)
    acc = max(stage.table.acc_bits for stage in program.activations)
    assert 16 * BATCH * 256 * acc > FRAME_BYTES_BEFORE_LOGIN      # the OT request is larger
    sk, alice_pub = users["alice"][1], users["alice"][2]
    x = np.random.default_rng(5).integers(-2048, 2048, (BATCH, 16 * 16))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        with cloud(tmp_path, owners) as (address, _):
            publish("compact", alice_pub, address, "c", owners["carol"][0], progress=False)
            session = RemoteSession(address, sk, "c")
            try:
                out = session.run(x)
            finally:
                session.close()
    assert np.array_equal(out, PlaintextBackend().run_fixed(program, x))
