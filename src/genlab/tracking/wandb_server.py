"""The W&B server as genlab reaches it: its address, the login, and a fast check that both
are there before anything waits on W&B (a W&B sweep, a comparison of a W&B project)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

from genlab.errors import GenlabError

DEFAULT_BASE_URL = "https://api.wandb.ai"


class WandbUnavailableError(GenlabError):
    """No W&B login, or no route to the W&B server."""


def base_url() -> str:
    return os.environ.get("WANDB_BASE_URL", DEFAULT_BASE_URL)


def api_key_configured() -> bool:
    """A W&B API key in the environment or in ~/.netrc for the configured server."""
    from genlab._compat.wandb import netrc_api_key

    return bool(os.environ.get("WANDB_API_KEY") or netrc_api_key(base_url()))


def check_server(timeout_s: float, what: str, instead: str) -> None:
    """Fails fast, with the fix, when there is no login or the server cannot be reached
    (wandb itself would prompt for a key, or retry for minutes). ``what`` names what needs
    the server, ``instead`` what the user can do without it."""
    if not api_key_configured():
        raise WandbUnavailableError(
            f"{what} needs a W&B login (`wandb login` or WANDB_API_KEY); {instead}"
        )
    url = urlparse(base_url())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout_s).close()
    except OSError as exc:
        raise WandbUnavailableError(
            f"cannot reach the W&B server {base_url()} ({exc}); {instead}"
        ) from exc
