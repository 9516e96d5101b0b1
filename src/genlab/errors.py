"""User-facing errors.

A :class:`GenlabError` is a mistake the user can fix (a bad config value, a missing file).
The command-line apps print its message and exit with status 2, without a traceback;
every other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterator


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions behind it (raised ``from``, or raised while handling), each
    once: wrappers such as Hydra's instantiate or torch's checkpoint writer hide the cause."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


class GenlabError(Exception):
    """A user error: the message says what is wrong and how to fix it."""

    exit_code = 2


class ConfigError(GenlabError):
    """A config value is invalid."""


class DataNotFoundError(GenlabError):
    """A dataset is not on disk and cannot be downloaded."""


class DataCorruptError(GenlabError):
    """A dataset file on disk does not hold what it should (checksum or decompression failure)."""


class CheckpointError(GenlabError):
    """A checkpoint is missing, corrupt or not a genlab checkpoint."""


class ModelContractError(GenlabError):
    """A model does not do what genlab reads of it (docs/extending.md, "The model contract")."""


class TrainingDiverged(GenlabError):
    """Training losses became NaN, infinite or exceeded the configured threshold.

    Not a typing mistake but an outcome: the run dir records status ``diverged``; exit status 3
    tells scripts it apart from a rejected config (2).
    """

    exit_code = 3


class DiskFull(GenlabError):
    """A file system the run writes to has no space left."""


class StorageUnavailable(GenlabError):
    """A sweep's study storage cannot be opened (malformed, no driver, no server), or its
    database stayed away longer than the sweep waits for it."""


def user_message(user_error: GenlabError) -> str:
    """The error's message; for an error raised in a DataLoader worker, the original message
    rather than PyTorch's re-raised text ("Caught X in DataLoader worker process 0. Original
    Traceback ... genlab.errors.X: <message>")."""
    message = str(user_error)
    if "Original Traceback" not in message:
        return message
    last = message.rstrip().splitlines()[-1]
    prefix = f"{type(user_error).__module__}.{type(user_error).__name__}: "
    return last.removeprefix(prefix)
