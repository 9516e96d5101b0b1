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


@contextmanager
def postgres_server(bin_dir: Path) -> Iterator[str]:
    """A running server with an empty database; yields its SQLAlchemy URL."""
    folder = Path(tempfile.mkdtemp(prefix="genlab-pg-"))
    prefix = _server_user()
    if prefix:
        shutil.chown(folder, user=prefix[2])
    port = _free_port()
    log = folder / "server.log"

    def run(*command: str) -> None:
        done = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            server_log = log.read_text() if log.is_file() else ""
            raise RuntimeError(f"{command[0]} failed: {done.stderr}{done.stdout}{server_log}")

    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    try:
        run(str(bin_dir / "initdb"), "-D", str(folder / "data"), "-U", "genlab",
            "--auth=trust", "-E", "UTF8", "--no-sync")  # fmt: skip
        run(str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-l", str(log), "-w",
            "-t", "60", "-o", options, "start")  # fmt: skip
        try:
            run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "genlab",
                "sweeps")  # fmt: skip
            yield f"postgresql://genlab@127.0.0.1:{port}/sweeps"
        finally:
            run(str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
