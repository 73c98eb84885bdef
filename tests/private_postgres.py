"""A private PostgreSQL server for tests that stop and start one (outages), never the shared one.

`PrivateServer` runs `initdb` and `pg_ctl` from the machine's PostgreSQL binaries on a free
loopback port, in a temporary folder, as the `postgres` system user when the tests run as root
(PostgreSQL refuses to run as root). Tests skip with the reason when the binaries are missing,
and fail instead under CI=true.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:  # the folder of the real binaries (a PATH entry may hold only links to some)
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateServer:
    def __init__(self):
        self.bin = _binaries()
        if self.bin is None:
            message = "PostgreSQL server binaries (initdb, pg_ctl) not found"
            if IN_CI:
                pytest.fail(message + " (required under CI=true)", pytrace=False)
            pytest.skip(message)
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="enrollment-pg-"))
        self.data = self.root / "data"
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("postgres")
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def replica_of(self, primary: PrivateServer) -> PrivateServer:
        """Make this server a streaming replica of `primary` (a base backup with `-R`: it
        starts as a standby that follows the primary's WAL over a replication connection)."""
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                  "-D", str(self.data), "-R", "-X", "stream", "--no-sync")
        return self

    def init(self) -> PrivateServer:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.root / "log"), "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres():
    server = PrivateServer().init()
    server.start()
    try:
        yield server
    finally:
        server.remove()
