"""The setup's PostgreSQL step on a server that has never seen this user:
a throwaway Debian cluster of its own (no role but ``postgres``), so the
fresh-machine path runs in CI even where the usual cluster knows us."""

import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "setup" / "lib"))
import bksetup  # noqa: E402


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(port, sql):
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-X", "-At", "-p", str(port), "-d", "postgres",
         "-c", sql], capture_output=True, text=True, timeout=60, check=True).stdout.strip()


@pytest.fixture(scope="module")
def empty_cluster():
    if not bksetup.is_root():
        pytest.fail("this test creates a PostgreSQL cluster: run it as root (CI does)")
    if not shutil.which("pg_createcluster"):
        pytest.fail("Debian's postgresql-common (pg_createcluster) is missing; ./setup/test installs it")
    version = bksetup.debian_clusters()[0]["version"]
    name = f"bk_role_{uuid.uuid4().hex[:8]}"
    port = _free_port()
    subprocess.run(["pg_createcluster", version, name, "-p", str(port), "--start"],
                   capture_output=True, text=True, timeout=180, check=True)
    try:
        yield port
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True, timeout=180)
    assert not any(c["name"] == name for c in bksetup.debian_clusters())


def test_the_new_cluster_knows_no_role_but_postgres(empty_cluster):
    roles = _as_postgres(empty_cluster, "SELECT rolname FROM pg_roles WHERE rolcanlogin")
    assert roles.split() == ["postgres"]


@pytest.mark.parametrize("role", ["root", "bk-nieuw", "o'brien", 'quote"and;drop'])
def test_ensure_role_creates_a_role_that_does_not_exist_yet(empty_cluster, role):
    count = f"SELECT count(*) FROM pg_roles WHERE rolname = $${role}$$ AND rolcreatedb AND rolcanlogin"
    assert _as_postgres(empty_cluster, count) == "0"
    bksetup.ensure_role(role, str(empty_cluster))
    assert _as_postgres(empty_cluster, count) == "1"
    bksetup.ensure_role(role, str(empty_cluster))  # a second run changes nothing
    assert _as_postgres(empty_cluster, count) == "1"
