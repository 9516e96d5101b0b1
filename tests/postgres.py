"""A PostgreSQL server of the tests' own: a fresh cluster in a temporary folder, on a free
localhost port, started with the Debian package's binaries (apt-get install postgresql).

PostgreSQL refuses to run as root, so under root (CI) the server runs as the ``postgres`` user
the package creates (or ``nobody``), which owns the temporary folder.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

USER = "genlab"
DATABASE = "sweeps"


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parts[-3])
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> list[str]:
    """The command prefix that runs a PostgreSQL binary as a user it accepts."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    raise RuntimeError("no unprivileged user to run PostgreSQL as")


class PostgresServer:
    """A cluster in ``folder``; ``url`` names its database (without the password, when the
    server asks TCP clients for one)."""

    def __init__(self, bin_dir: Path, folder: Path) -> None:
        self.bin_dir = bin_dir
        self.folder = folder
        self.port = _free_port()
        self.url = f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"
        self.run_as = _server_user()
        self.running = False
        self._log = folder / "server.log"

    def init(self, password: str | None) -> None:
        """A new cluster; with ``password``, TCP clients must give it (SCRAM authentication);
        the server's own socket in ``folder`` stays trusted."""
        auth = ["--auth=trust"]
        if password is not None:
            password_file = self.folder / "password"
            password_file.write_text(password)
            if self.run_as:
                shutil.chown(password_file, user=self.run_as[2])
            auth = [f"--pwfile={password_file}", "--auth-local=trust",
                    "--auth-host=scram-sha-256"]  # fmt: skip
        try:
            self._run("initdb", "-D", str(self.folder / "data"), "-U", USER, *auth,
                      "-E", "UTF8", "--no-sync")  # fmt: skip
        finally:
            (self.folder / "password").unlink(missing_ok=True)

    def create_database(self) -> None:
        self._run("createdb", "-h", str(self.folder), "-p", str(self.port), "-U", USER, DATABASE)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self._log), "-w",
                  "-t", "60", "-o", options, "start")  # fmt: skip
        self.running = True

    def stop(self) -> None:
        """As a crash or a pulled cable looks to clients: connections end at once."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        self.running = False

    def _run(self, binary: str, *arguments: str) -> None:
        done = subprocess.run(
            [*self.run_as, str(self.bin_dir / binary), *arguments],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            server_log = self._log.read_text() if self._log.is_file() else ""
            raise RuntimeError(f"{binary} failed: {done.stderr}{done.stdout}{server_log}")


@contextmanager
def postgres_server(bin_dir: Path, password: str | None = None) -> Iterator[PostgresServer]:
    """A running server with an empty database, stopped and deleted afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="genlab-pg-"))
    try:
        server = PostgresServer(bin_dir, folder)
        if server.run_as:
            shutil.chown(folder, user=server.run_as[2])
        server.init(password)
        server.start()
        try:
            server.create_database()
            yield server
        finally:
            if server.running:
                server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
