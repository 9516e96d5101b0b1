"""comparison.html: comparison.md as one self-contained page, figures inlined, for a browser
or an e-mail attachment (no folder of PNGs to keep beside it)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import markdown

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; display: block;
        overflow-x: auto; }
code { overflow-wrap: anywhere; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; height: auto; display: block; margin: 1rem 0; }
"""


def write_html(markdown_text: str, folder: Path, path: Path) -> None:
    """Renders ``markdown_text`` (Python-Markdown, with its tables extension); every
    ``<img src="NAME">`` whose file is in ``folder`` is inlined as a data URI."""
    body = markdown.markdown(markdown_text, extensions=["tables"])
    body = re.sub(r'<img alt="([^"]*)" src="([^"]+)"', lambda m: _inline(m, folder), body)
    path.write_text(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>genlab comparison</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _inline(match: re.Match[str], folder: Path) -> str:
    alt, source = match.group(1), match.group(2)
    image = folder / source
    if not image.is_file():
        return match.group(0)
    data = base64.b64encode(image.read_bytes()).decode("ascii")
    return f'<img alt="{alt}" src="data:image/png;base64,{data}"'
