"""The web app's limits (:class:`WebConfig`) and its form's settings, apart from the app so that
the command line, docs/options.md and the page's tests read them without loading FastAPI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nst.options import SETTINGS, Setting

# The bundled examples, package data of nst itself: every image in photos/ is offered as a photo,
# every one in paintings/ as a painting. Adding an image there is all it takes to offer it.
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
# What the form may set: the run settings declared with ``web=True`` (nst.options), and the page's
# slider, the style weight times 0.1 to 10.
WEB_SETTINGS = tuple(setting for setting in SETTINGS.values() if setting.web)
STYLE_STRENGTH = Setting("style_strength", "multiplies --style-weight", "float", 1.0, details="The page's slider"
                         " sets it from 0.1 to 10.")  # fmt: skip


@dataclass(frozen=True)
class WebConfig:
    """The server's limits. ``allowed_hosts``: Host headers accepted (None: any). ``max_size``:
    None offers the largest size that fits in the memory available when the app starts (in tiles,
    on the print ladder, as on the command line)."""

    max_upload_mb: float = 20.0
    max_pixels: int = 40_000_000
    max_size: int | None = None
    max_steps: int = 1000
    max_time_budget: float = 1800.0
    max_paintings: int = 4
    max_waiting: int = 16
    abandon_after_s: float = 10.0
    keep_s: float = 3600.0
    examples: Path | None = EXAMPLES
    allowed_hosts: tuple[str, ...] | None = LOOPBACK_NAMES

    @property
    def max_upload_bytes(self) -> int:
        return round(self.max_upload_mb * 1024 * 1024)
