"""The benchmark times each party's multi-exponentiations over fixed-base tables built as the
party builds them: same exponent range [low, high), same blocks x columns. Run the packed
parties' provisioning on tiny, then measure tiny, and compare every table the bench built
with the parties' own (which the parties build in __init__ and provision)."""

import pytest

from veil.backends.yao.paillier.pooled import FixedBases
from veil.bench.measure import Keys, measure_model
from veil.models.catalog import compile_model

from ..backends.yao.lowerings.secure_testkit import both, packed_parties

pytestmark = pytest.mark.filterwarnings(
    "ignore::veil.backends.yao.paillier.keys.InsecureKeyWarning")
BITS = 512          # splits tiny's first layer over 2 blocks: the tables' shape is tested too


def shape(t: FixedBases) -> tuple[int, int, int, int]:
    return len(t.bases), len(t.bases[0]), t.low, t.high


def parties_tables(program):
    """(the user's tables, the cloud's tables) per layer, from a real provisioning."""
    user, cloud, u_ch, c_ch = packed_parties(program, BITS)
    both(lambda: user.provision(u_ch),
         lambda: (cloud.provision(), cloud.send_provisioning(c_ch)), u_ch, c_ch)
    return [shape(q) for q in user.Q], [shape(c) for c in cloud.columns]


def bench_tables(monkeypatch):
    """(the user's tables, the cloud's tables) the bench builds, told apart by modulus."""
    built: list[FixedBases] = []
    init = FixedBases.__init__

    def spy(self, *args, **kwargs):
        init(self, *args, **kwargs)
        built.append(self)
    monkeypatch.setattr(FixedBases, "__init__", spy)
    keys = Keys.generate(BITS)
    cost = measure_model("tiny", BITS, patches=1, sample=2, keys=keys, traffic=False)
    assert all(x.measured_blocks == x.blocks for x in cost.layers)      # whole layers timed
    return ([shape(t) for t in built if t.modulus == keys.pk_c.nsquare],
            [shape(t) for t in built if t.modulus == keys.pk_u.nsquare])


def test_bench_tables_are_the_parties(monkeypatch):
    program = compile_model("tiny", "packed", key_bits=BITS)
    user, cloud = parties_tables(program)
    bench_user, bench_cloud = bench_tables(monkeypatch)
    assert program.dense[0].packed.blocks == 2 and user[0][0] == 2
    assert bench_user == user
    # the cloud's layer-1 tables are never used (no input mask s there): the bench skips them
    assert bench_cloud == cloud[1:]
