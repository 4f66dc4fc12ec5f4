"""The setup's answers to the faults a newcomer meets: each is one clear line
that names the problem and the fix, and an interrupted run is repaired."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "setup" / "lib"))
import bksetup  # noqa: E402


def fake_odoo_source(root: Path, version="18.0.post20250506", enterprise=False) -> Path:
    (root / "odoo" / "addons" / "account").mkdir(parents=True)
    (root / "odoo" / "release.py").write_text("version_info = (18, 0, 0, 'final', 0, '')\n")
    for name in ("odoo-bin", "setup.py", "requirements.txt"):
        (root / name).write_text("")
    (root / "PKG-INFO").write_text(f"Metadata-Version: 2.1\nName: odoo\nVersion: {version}\n")
    if enterprise:
        (root / "odoo" / "addons" / "web_enterprise").mkdir()
    return root


def run_setup(*args, env_extra=None, cwd=REPO):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "ODOO_SRC", "XDG_CACHE_HOME"))}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, str(REPO / "setup" / "lib" / "bksetup.py"), *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_community_18_source_is_accepted(tmp_path):
    assert bksetup.odoo_source_problem(fake_odoo_source(tmp_path)) is None


def test_enterprise_source_is_refused(tmp_path):
    problem = bksetup.odoo_source_problem(fake_odoo_source(tmp_path, enterprise=True))
    assert "Enterprise" in problem


def test_enterprise_version_marker_is_refused(tmp_path):
    problem = bksetup.odoo_source_problem(fake_odoo_source(tmp_path, version="18.0+e.20250506"))
    assert "Enterprise" in problem


def test_other_odoo_version_is_refused(tmp_path):
    problem = bksetup.odoo_source_problem(fake_odoo_source(tmp_path, version="17.0.post20240101"))
    assert "17.0" in problem and "not 18.0" in problem


def test_folder_that_is_not_odoo_is_refused(tmp_path):
    assert "not an Odoo source tree" in bksetup.odoo_source_problem(tmp_path)


def test_wrong_odoo_src_gets_one_line_naming_odoo_src(tmp_path):
    proc = run_setup("demo", env_extra={"ODOO_SRC": str(tmp_path / "nothing-here"),
                                        "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 2
    error_lines = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(error_lines) == 1
    assert "ODOO_SRC" in error_lines[0] and "not a folder" in error_lines[0]


def test_no_source_and_no_network_names_odoo_src(tmp_path, monkeypatch):
    monkeypatch.setattr(bksetup, "ODOO_CACHE", tmp_path / "cache" / "odoo-18.0")
    monkeypatch.setattr(bksetup, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(bksetup, "OFFICIAL_ODOO_SOURCE", "http://127.0.0.1:9/odoo.tar.gz")
    monkeypatch.delenv("ODOO_SRC", raising=False)
    with pytest.raises(bksetup.SetupError, match="ODOO_SRC"):
        bksetup.ensure_odoo_source()


def test_interrupted_source_copy_is_redone(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setattr(bksetup, "CACHE", cache)
    monkeypatch.setattr(bksetup, "ODOO_CACHE", cache / "odoo-18.0")
    source = fake_odoo_source(tmp_path / "src")
    # a copy killed halfway leaves a folder without its completion marker
    (cache / "odoo-18.0").mkdir(parents=True)
    monkeypatch.setenv("ODOO_SRC", str(source))
    assert bksetup.ensure_odoo_source() == cache / "odoo-18.0"
    assert (cache / "odoo-18.0" / ".complete").exists()
    assert (cache / "odoo-18.0" / "odoo-bin").exists()


def test_cached_source_is_found_without_being_told(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setattr(bksetup, "CACHE", cache)
    monkeypatch.setattr(bksetup, "ODOO_CACHE", cache / "odoo-18.0")
    monkeypatch.setenv("ODOO_SRC", str(fake_odoo_source(tmp_path / "src")))
    bksetup.ensure_odoo_source()
    monkeypatch.delenv("ODOO_SRC")
    monkeypatch.setattr(bksetup, "OFFICIAL_ODOO_SOURCE", "http://127.0.0.1:9/must-not-be-used")
    assert bksetup.ensure_odoo_source() == cache / "odoo-18.0"


def test_port_in_use_gets_one_line_with_the_fix():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_setup("demo", "--port", str(port))
    assert proc.returncode == 2
    assert f"Port {port} is already in use" in proc.stderr
    assert "--port" in proc.stderr


def test_unsupported_python_is_named():
    script = REPO / "setup" / "_python.sh"
    proc = subprocess.run(["/bin/bash", "-c", f". {script}; pick_python"], capture_output=True, text=True,
                          env={"PATH": "/nonexistent"})
    assert proc.returncode == 2
    assert "Python 3.10, 3.11 or 3.12" in proc.stderr


def test_unreachable_postgres_from_pg_variables_falls_back_and_says_so(monkeypatch, capsys):
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    monkeypatch.setenv("PGPORT", "9")  # nothing listens there
    settings = bksetup.ensure_postgres()
    assert "not reachable" in capsys.readouterr().out
    assert settings["db_port"] != "9"


def test_python_version_check_names_the_fix(monkeypatch):
    monkeypatch.setattr(sys, "version_info", (3, 9, 0, "final", 0))
    with pytest.raises(bksetup.SetupError, match="python3.11"):
        bksetup.check_python()


@pytest.fixture
def demo_port_busy():
    """Port 8069 taken, as when ./setup/demo runs beside the tests: taken by
    this test itself when free, so the test means the same either way."""
    listener = socket.socket()
    try:
        listener.bind(("127.0.0.1", 8069))
        listener.listen()
    except OSError:
        listener.close()
        listener = None  # the demo (or another Odoo) holds it already
    yield 8069
    if listener:
        listener.close()


def test_wrong_odoo_src_is_named_before_a_busy_port(tmp_path, demo_port_busy):
    proc = run_setup("demo", env_extra={"ODOO_SRC": str(tmp_path / "nothing-here"),
                                        "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 2
    error_lines = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(error_lines) == 1, proc.stderr
    assert "ODOO_SRC" in error_lines[0] and "Port" not in error_lines[0]


def test_busy_port_is_named_when_the_source_is_right(tmp_path, demo_port_busy):
    source = fake_odoo_source(tmp_path / "odoo")
    proc = run_setup("demo", env_extra={"ODOO_SRC": str(source),
                                        "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 2
    error_lines = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(error_lines) == 1, proc.stderr
    assert f"Port {demo_port_busy} is already in use" in error_lines[0]
