"""veil.denoise: the pixels `veil denoise` writes, the input's shape and dtype for grey and
colour, 8 and 16 bits, the secure backend equal to the reference, one-line errors."""
import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image

import veil
from veil.cli import main


def picture(h=13, w=11, colour=False, bits=8, seed=0) -> np.ndarray:
    """A smooth picture with noise, as an integer array (independent of veil's own code)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 70 * np.sin(x / 4.0) * np.cos(y / 5.0)
    planes = [base, 255 - base, base / 2 + 40][: 3 if colour else 1]
    arr = np.stack([p + rng.normal(0, 20, p.shape) for p in planes], axis=2)
    arr = np.clip(arr, 0, 255) * (257 if bits == 16 else 1)
    arr = np.rint(arr).astype(np.uint16 if bits == 16 else np.uint8)
    return arr if colour else arr[:, :, 0]


def cli_denoise(tmp_path, arr, suffix, *options) -> np.ndarray:
    src, out = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    if suffix == ".tif":
        tifffile.imwrite(src, arr)
    else:
        Image.fromarray(arr).save(src)
    res = CliRunner().invoke(main, ["denoise", str(src), "-o", str(out), "--quiet",
                                    *map(str, options)])
    assert res.exit_code == 0, res.output + res.stderr
    return tifffile.imread(out) if suffix == ".tif" else np.array(Image.open(out))


@pytest.mark.parametrize("colour,bits,suffix,options", [
    (False, 8, ".png", ("--model", "compact", "--stride", 4)),
    (True, 16, ".tif", ("--model", "tiny", "--batch", 7)),
])
def test_equals_the_commands_output_file(tmp_path, colour, bits, suffix, options):
    arr = picture(colour=colour, bits=bits)
    expected = cli_denoise(tmp_path, arr, suffix, *options)
    kwargs = dict(zip([o.lstrip("-") for o in options[::2]], options[1::2]))
    got = veil.denoise(arr, **kwargs)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
    assert not np.array_equal(got, arr)        # it did denoise


@pytest.fixture(scope="module")
def tiny():
    return veil.compile("tiny")


@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("bits", [8, 16])
def test_shape_and_dtype_are_kept(tiny, colour, bits):
    eight = picture(colour=colour, seed=bits)
    arr = eight.astype(np.uint16) * 257 if bits == 16 else eight
    out = veil.denoise(arr, model=tiny)
    assert out.shape == arr.shape and out.dtype == arr.dtype
    if colour:       # per channel: each plane denoised as a grey image gives the same plane
        for c in range(3):
            plane = np.ascontiguousarray(arr[:, :, c])
            assert np.array_equal(out[:, :, c], veil.denoise(plane, model=tiny))
    if bits == 16:   # the 8-bit picture scaled by 257: the 8-bit result, rounded finer
        assert np.abs(out / 257 - veil.denoise(eight, model=tiny)).max() <= 0.5 + 1 / 257


def test_a_compiled_program_and_its_spec_denoise_alike(tiny):
    arr = picture()
    assert np.array_equal(veil.denoise(arr, model=tiny), veil.denoise(arr, model="tiny"))
    with pytest.raises(veil.UsageError, match="lowering='paper' differs"):
        veil.denoise(arr, model=tiny, lowering="paper")
    with pytest.raises(veil.UsageError, match="key_bits=768 differs"):
        veil.denoise(arr, model=tiny, key_bits=768)


def test_secure_backend_equals_plaintext_on_a_tiny_image():
    program = veil.compile("tiny", key_bits=768)           # small test keys
    arr = picture(5, 4, colour=False, seed=3)
    with pytest.warns(UserWarning, match="768-bit"):
        secure = veil.denoise(arr, model=program, backend="yao", workers=1)
    assert np.array_equal(secure, veil.denoise(arr, model=program, backend="plaintext"))


def test_bad_input_is_a_one_line_error_before_any_work(tiny, monkeypatch):
    import veil.models.run as run
    calls = []
    monkeypatch.setattr(run, "denoise_channels", lambda *a, **k: calls.append(a))
    good = picture()
    cases = [(good.astype(np.float64), veil.ImageError, "unsupported dtype float64"),
             (good.astype(np.int16), veil.ImageError, "uint8 or uint16 expected"),
             (good.tolist(), veil.ImageError, "a numpy array expected, got list"),
             (np.zeros((4, 4, 4), np.uint8), veil.ImageError, "unsupported shape (4, 4, 4)"),
             (np.zeros((4, 4, 3, 1), np.uint8), veil.ImageError, "unsupported shape"),
             (np.zeros((0, 4), np.uint8), veil.ImageError, "empty image")]
    for image, kind, words in cases:
        with pytest.raises(kind, match=words.replace("(", r"\(").replace(")", r"\)")) as info:
            veil.denoise(image, model=tiny)
        assert "\n" not in str(info.value)
    options = [(dict(backend="quantum"), "unknown backend 'quantum'"),
               (dict(stride=0), "stride must be between 1 and"),
               (dict(batch=0), "batch must be at least 1"),
               (dict(dask="tcp://127.0.0.1:1"), "dask applies to backend yao only"),
               (dict(workers=2, dask="tcp://127.0.0.1:1", backend="yao"),
                "workers and dask exclude each other")]
    for kwargs, words in options:
        with pytest.raises(veil.UsageError, match=words) as info:
            veil.denoise(good, model=tiny, **kwargs)
        assert "--" not in str(info.value)          # the keyword, not the command's flag
    with pytest.raises(veil.UsageError, match="no built-in model"):
        veil.denoise(good, model="nonexistent")
    assert calls == []
