"""What every genlab app shares: Hydra's decorator on genlab's configs, user-error reporting."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import hydra
from omegaconf import DictConfig

from genlab.errors import GenlabError
from genlab.paths import config_dir
from genlab.process import end_with_parent
from genlab.resolvers import register_resolvers

T = TypeVar("T")


def find_user_error(exc: BaseException) -> GenlabError | None:
    """The GenlabError behind an exception, also when Hydra's instantiate wrapped it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, GenlabError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def exit_with(user_error: GenlabError) -> NoReturn:
    """One line on stderr, the error's exit status, no traceback."""
    print(f"genlab: error: {user_error}", file=sys.stderr)
    sys.exit(user_error.exit_code)


def report_user_errors(task: Callable[[DictConfig], T]) -> Callable[[DictConfig], T]:
    """User errors end in one line on stderr and exit status 2; bugs keep their traceback."""

    def wrapped(cfg: DictConfig) -> T:
        try:
            return task(cfg)
        except Exception as exc:
            user_error = find_user_error(exc)
            if user_error is None:
                raise
            exit_with(user_error)

    return wrapped


def hydra_app(config_name: str) -> Callable[[Callable[[DictConfig], Any]], Callable[[], Any]]:
    """``@hydra.main`` on genlab's config dir, with user errors reported."""

    def decorate(task: Callable[[DictConfig], Any]) -> Callable[[], Any]:
        register_resolvers()
        end_with_parent()
        return hydra.main(
            version_base="1.3", config_path=str(config_dir()), config_name=config_name
        )(report_user_errors(task))

    return decorate
