"""The minified widget: built from the readable source, `callback/assets/widget.js`.

The source lives inside the package (not at the repository root) so that an install from a
wheel serves the widget too.

rjsmin is a pure-Python port of Crockford's jsmin: it strips comments and whitespace and never
renames or rewrites code, so what runs in a browser is the reviewed source, only shorter. The
build happens on first use (never at import) and is cached for the life of the process; the
ETag is a hash of the bytes, so a changed source gets a new URL version and ETag.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import rjsmin

__all__ = ["BUDGET_BYTES", "SOURCE", "Build", "build", "write"]

SOURCE = Path(__file__).resolve().parent / "assets" / "widget.js"
# The budget for the script as a browser downloads it: minified, then gzipped.
BUDGET_BYTES = 8 * 1024


@dataclass(frozen=True)
class Build:
    minified: bytes
    gzipped: bytes
    version: str  # the first 12 hex digits of the bytes' sha256: `/widget.js?v=<version>`

    @property
    def etag(self) -> str:
        return self.version


def minify(source: str) -> bytes:
    # keep_bang_comments keeps the /*! licence header */ a CDN copy should carry.
    return rjsmin.jsmin(source, keep_bang_comments=True).strip().encode("utf-8") + b"\n"


@cache
def build(source: Path = SOURCE) -> Build:
    minified = minify(source.read_text("utf-8"))
    # mtime=0: the same source gives the same bytes, whatever the day it was built.
    gzipped = gzip.compress(minified, compresslevel=9, mtime=0)
    return Build(minified, gzipped, hashlib.sha256(minified).hexdigest()[:12])


def write(out_dir: Path, source: Path = SOURCE) -> Path:
    """Write `widget.min.js` (and its `.gz`) into `out_dir` for CDN hosting; returns the path."""
    result = build(source)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "widget.min.js"
    target.write_bytes(result.minified)
    (out_dir / "widget.min.js.gz").write_bytes(result.gzipped)
    return target
