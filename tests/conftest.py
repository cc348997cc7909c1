"""Every test gets its own config folder, so nothing a client records (known clouds, the
newest model versions it was served) reaches the real ~/.config or another test."""
import pytest


@pytest.fixture(autouse=True)
def _own_config_folder(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
