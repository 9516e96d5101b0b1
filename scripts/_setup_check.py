"""Imported first by every script here: run by a Python that lacks genlab or PyTorch (a plain
``python3`` outside .venv), a script ends in one line that says how to set them up, not in a
traceback of the first import that fails."""

import importlib.util
import sys

# What scripts/setup.sh installs and every script needs.
_NEEDED = ("genlab", "torch")

_missing = [name for name in _NEEDED if importlib.util.find_spec(name) is None]
if _missing:
    print(
        f"genlab: error: {_missing[0]} is not installed in this Python ({sys.executable}); "
        "run `make setup`, then use .venv/bin/python or `source .venv/bin/activate`",
        file=sys.stderr,
    )
    sys.exit(2)
