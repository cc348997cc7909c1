"""Each party's fixed-base tables cover every exponent the protocol gives them: the user's the
signed patch (layer 1) or y + s (later layers), the cloud's its input masks s. The parties and
the benchmarks size their tables from these ranges, so a range too narrow fails here."""
import pytest

from veil.backends.yao.lowerings.packed import linear as L
from veil.models.catalog import compile_model


@pytest.mark.parametrize("spec", ["tiny", "compact", "wide"])
def test_ranges_cover_every_exponent(spec):
    program = compile_model(spec, "packed", key_bits=2048)
    for st in program.dense:
        sh, fmt = st.packed, st.layer.in_format
        low_u, high_u = L.user_exponent_range(sh)
        low_c, high_c = L.cloud_exponent_range(sh)
        s_min, s_max = 1 << sh.input_bits, (1 << (sh.input_bits + sh.kappa)) - 1
        assert all(low_c <= v < high_c for row in L.draw_input_masks(sh, 20) for v in row)
        assert low_c <= s_min and s_max < high_c
        if sh.first:
            exponents = (fmt.min_int, fmt.max_int)
        else:
            exponents = (fmt.min_int + s_min, fmt.max_int + s_max)
        assert all(low_u <= e < high_u for e in exponents)
        assert low_u >= -sh.exponent_bound + 1 and high_u <= sh.exponent_bound
