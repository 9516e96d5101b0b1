"""Renders the docs' measured tables from their records: every block between
``<!-- results: NAME -->`` and ``<!-- /results -->`` in README.md and docs/*.md gets the table of
``docs/results/NAME.json`` and the line saying how it was measured.

    python scripts/render_docs.py [--check]

``--check`` changes nothing and exits 1 when a page differs from what its records give.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # no set-up needed

from genlab.atomic_write import write_text_atomic
from genlab.errors import GenlabError
from genlab.results import REPO, pages, render_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say which pages differ")
    args = parser.parse_args()
    stale = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        try:
            rendered = render_text(text)
        except GenlabError as exc:
            print(f"genlab: error: {page.relative_to(REPO)}: {exc}", file=sys.stderr)
            sys.exit(2)
        if rendered != text:
            stale.append(page)
            if not args.check:
                write_text_atomic(page, rendered)
    verb = "differ from their records" if args.check else "rendered"
    for page in stale:
        print(f"{page.relative_to(REPO)}: {verb}")
    if args.check and stale:
        sys.exit(1)


if __name__ == "__main__":
    main()
