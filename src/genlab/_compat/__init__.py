"""The one place genlab reaches into its libraries' internals.

Every name here is private to its library (``_name``, a private module, or a function its
package does not export): no release promises to keep it. Each use says why the public API
does not serve, and each module lists what it relies on in ``RELIES_ON``, which the test suite
checks against the installed versions, so a library upgrade that moves one of them fails
there, naming it, instead of somewhere in a training run. Nothing else in genlab imports a
private name of a library (tests/test_compat.py holds it so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Internal:
    """One private name genlab relies on: ``name`` on ``owner`` (a dotted module or class
    path), with these parameters when it is called. ``instance`` builds an object to look the
    name up on, for attributes a class sets in ``__init__``."""

    distribution: str  # the package whose version tells the user what changed
    owner: str
    name: str
    params: tuple[str, ...] | None = None
    instance: Callable[[], object] | None = None

    def __str__(self) -> str:
        return f"{self.owner}.{self.name}"
