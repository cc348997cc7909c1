"""Every test gets its own config folder, so nothing a client records (known clouds, the
newest model versions it was served) reaches the real ~/.config or another test.

The suite runs in one process per core (`pytest -n auto`, pytest-xdist), and every worker
collects it anew: a parametrisation whose values are drawn at random (os.urandom, a fresh
key) must give them fixed `ids=`, or the workers' test ids differ and the run stops."""
import pytest


@pytest.fixture(autouse=True)
def _own_config_folder(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
