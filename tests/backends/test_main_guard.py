"""Worker pools made from a script's unguarded top level are refused at once, with the
script and line named; guarded scripts, functions called under the guard and `python -c`
get their pool. Each case is a real script run by a real interpreter: what is checked is
what a user running it would see."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from veil.util.main_guard import unguarded_call_site

POOL = """
from veil.backends.executor import ProcessExecutor
# The pool runs a builtin (pow): a function defined in the script could not reach
# workers started from `python -c`, which have no script to import.
"""
USE_POOL = "with ProcessExecutor(2) as pool: print('result', pool.submit(pow, 3, 3).result())"


def run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


def refused_at(result: subprocess.CompletedProcess, line: int) -> bool:
    last = result.stderr.strip().splitlines()[-1]
    return (result.returncode != 0 and last.startswith("veil.util.errors.UsageError")
            and f"user_script.py again in each worker (line {line} is outside" in last
            and "BrokenProcessPool" not in result.stderr and "result" not in result.stdout)


def test_an_unguarded_script_is_refused_before_any_worker_starts(tmp_path):
    result = run_script(tmp_path, POOL + USE_POOL + "\n")
    assert refused_at(result, 5), result.stderr


def test_a_function_called_from_the_unguarded_top_level_is_refused(tmp_path):
    body = POOL + "def main():\n    " + USE_POOL + "\nprint('before')\nmain()\n"
    result = run_script(tmp_path, body)
    assert "before" in result.stdout and refused_at(result, 8), result.stderr


@pytest.mark.parametrize("guard", ['if __name__ == "__main__":', "if '__main__' == __name__:",
                                   'try:\n  if __name__ == "__main__":'])
def test_a_guarded_script_gets_its_pool(tmp_path, guard):
    body = POOL + "def main():\n    " + USE_POOL + f"\n{guard}\n    main()\n"
    if guard.startswith("try"):
        body += "finally:\n  pass\n"
    result = run_script(tmp_path, body)
    assert result.returncode == 0 and "result 27" in result.stdout, result.stderr


def test_python_dash_c_gets_its_pool():
    # No script file: the workers have nothing to import again.
    code = POOL + USE_POOL
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and "result 27" in result.stdout, result.stderr


def test_the_api_refuses_an_unguarded_secure_denoise_and_runs_a_guarded_one(tmp_path):
    samples = Path(__file__).resolve().parents[2] / "models" / "samples" / "tiny_noisy.png"
    call = textwrap.dedent(f"""
        import veil
        program = veil.compile("tiny", key_bits=768)
        noisy = veil.load_image({str(samples)!r})[:6, :6]
        def secure():
            out = veil.denoise(noisy, model=program, backend="yao", workers=2)
            print("result", (out == veil.denoise(noisy, model=program)).all())
        """)
    refused = run_script(tmp_path, call + "secure()\n")
    assert refused_at(refused, 8), refused.stderr
    guarded = run_script(tmp_path, call + 'if __name__ == "__main__":\n    secure()\n')
    assert guarded.returncode == 0 and "result True" in guarded.stdout, guarded.stderr


def test_no_script_frame_means_no_objection():
    # Under pytest the main module is pytest's own, whose call is guarded.
    assert unguarded_call_site(sys._getframe()) is None
    assert unguarded_call_site(None) is None
