"""What every genlab app shares: Hydra's decorator on genlab's configs, user-error reporting."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

import hydra
import yaml
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from genlab.errors import ConfigError, GenlabError, exception_chain, user_message
from genlab.paths import config_dir
from genlab.process import end_with_parent
from genlab.resolvers import register_resolvers

T = TypeVar("T")


def find_user_error(exc: BaseException) -> GenlabError | None:
    """The GenlabError behind an exception, also when Hydra's instantiate wrapped it."""
    return next((e for e in exception_chain(exc) if isinstance(e, GenlabError)), None)


def exit_with(user_error: GenlabError) -> NoReturn:
    """One line on stderr, the error's exit status, no traceback."""
    print(f"genlab: error: {user_message(user_error)}", file=sys.stderr)
    sys.exit(user_error.exit_code)


def missing_required_value(cfg: DictConfig) -> str | None:
    """The first key whose value is still ``???`` (a value the config requires and has no
    default for), without resolving anything; None when every required value is given."""
    try:
        OmegaConf.to_container(cfg, resolve=False, throw_on_missing=True)
    except MissingMandatoryValue as exc:
        return exc.full_key
    return None


def check_required_values(cfg: DictConfig, examples: Mapping[str, str]) -> None:
    """Refuses a config with a required value left out, naming its key (an app would
    otherwise read ``???`` as a value, e.g. write into a folder named ``???``)."""
    key = missing_required_value(cfg)
    if key is not None:
        raise ConfigError(f"{key} is required: pass {key}={examples.get(key, 'VALUE')}")


def requiring_values(
    task: Callable[[DictConfig], T], examples: Mapping[str, str]
) -> Callable[[DictConfig], T]:
    """``task``, run once every required value of its config is given."""

    def checked(cfg: DictConfig) -> T:
        check_required_values(cfg, examples)
        return task(cfg)

    return checked


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


def hydra_app(
    config_name: str, examples: Mapping[str, str] | None = None
) -> Callable[[Callable[[DictConfig], Any]], Callable[[], Any]]:
    """``@hydra.main`` on genlab's configs, with user errors reported in one line.

    ``examples``: for a required key (``???`` in the config), the value its error shows
    (``out`` -> ``DIR``: "out is required: pass out=DIR"); ``VALUE`` where none is given.
    """

    def decorate(task: Callable[[DictConfig], Any]) -> Callable[[], Any]:
        register_resolvers()
        end_with_parent()
        hydra_main = hydra.main(
            version_base="1.3", config_path=str(config_dir()), config_name=config_name
        )(report_user_errors(requiring_values(task, examples or {})))

        @functools.wraps(task)
        def main() -> Any:
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                return hydra_main()  # the user asked for Hydra's full tracebacks
            # Hydra prints a config file's YAML syntax error with a long stack trace; asked to
            # re-raise instead, genlab reports it in one line and prints Hydra's own errors as
            # Hydra does.
            os.environ["HYDRA_FULL_ERROR"] = "1"
            try:
                return hydra_main()
            except yaml.YAMLError as exc:
                print(
                    f"genlab: error: a config file is not valid YAML: {_one_line(exc)}",
                    file=sys.stderr,
                )
                sys.exit(2)
            except CompactHydraException as exc:
                print(exc, file=sys.stderr)
                if isinstance(exc.__cause__, OmegaConfBaseException):
                    print(exc.__cause__, file=sys.stderr)
                sys.exit(1)
            finally:
                os.environ.pop("HYDRA_FULL_ERROR", None)

        return main

    return decorate


def _one_line(exc: BaseException) -> str:
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
