"""W&B internals genlab relies on, each with why the public API does not serve. W&B loads
slowly, so each function imports it when called."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genlab._compat import Internal


def netrc_api_key(host: str) -> str | None:
    """The API key ``wandb login`` stored for ``host`` in ~/.netrc (or $NETRC)."""
    # W&B's public login checks would prompt, or contact the server; this reads the file
    # the way wandb itself will when the run starts.
    from wandb.sdk.lib.wbauth import read_netrc_auth

    return read_netrc_auth(host=host)


def artifact_staging_dir() -> Path:
    """Where W&B keeps its copies of logged files until it uploads them."""
    # No public accessor: offline, the staged copies of checkpoints stay there until a sync.
    from wandb.sdk.artifacts.staging import get_staging_dir

    return Path(get_staging_dir())


def sweep_command_parts(
    command: list[str], params: dict[str, Any]
) -> tuple[list[Any], dict[str, list[str]]]:
    """A sweep's command template (its macros unfilled) and the macros' values for
    ``params``, formatted by W&B's own functions, as its agent does."""
    # The agent's formatting is public only as the agent itself, which needs a server.
    from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args

    values: dict[str, list[str]] = create_sweep_command_args(
        {"args": {name: {"value": value} for name, value in params.items()}}
    )
    return create_sweep_command(command), values


_WANDB = "wandb"
RELIES_ON = (
    Internal(_WANDB, "wandb.sdk.lib.wbauth", "read_netrc_auth", ("host",)),
    Internal(_WANDB, "wandb.sdk.artifacts.staging", "get_staging_dir", ()),
    Internal(_WANDB, "wandb.sdk.launch.sweeps.utils", "create_sweep_command", ("command",)),
    Internal(_WANDB, "wandb.sdk.launch.sweeps.utils", "create_sweep_command_args", ("command",)),
)
