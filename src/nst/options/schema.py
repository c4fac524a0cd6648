"""How a setting is declared: :func:`setting` makes an :class:`~nst.options.Options` field and its
:class:`Setting` in one declaration, with the commands that take it (:data:`STYLIZE`...) and the
heading it is listed under (:data:`SIZES`...); the command line's parsers, the web form's fields
and docs/options.md are made from the :class:`Setting` objects."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from nst.errors import NstError

# The commands, as the command line's subparsers name them (``stylize``: ``nst PHOTO PAINTING``),
# and the sets of them that take a group of settings.
STYLIZE, SCORE, REPRODUCE, SERVE, BATCH, VIDEO = "stylize", "score", "reproduce", "serve", "batch", "video"
PICTURE_COMMANDS = (STYLIZE, SCORE, BATCH, VIDEO)  # what the picture is compared with: sizes, losses
RUN_COMMANDS = (STYLIZE, BATCH, VIDEO)  # how it is optimised
# Headings of the command line's help and of docs/options.md.
SIZES, LOSSES, OPTIMISATION, PRINTS = "image sizes", "losses", "optimisation", "prints and textures"
# How a value is read from text (the command line, the web form): a whole number, a number, text,
# comma-separated names, comma-separated numbers, --NAME/--no-NAME, a flag that is on when given.
KINDS = ("int", "float", "text", "names", "numbers", "switch", "flag")
_TRUE, _FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no")


@dataclass(frozen=True)
class Setting:
    """One setting, declared once: its name, how it is read, its default, its help, its choices,
    the commands that take it and whether the web form may set it. The command line's parsers
    (:mod:`nst.apps.cli`), the web form's fields (:mod:`nst.apps.web.app`) and docs/options.md
    are all made from these declarations.

    ``name`` is the Python name (an :class:`~nst.options.Options` field, a keyword of :func:`nst.stylize`);
    the command line's flag is ``--name-with-dashes`` unless ``flags`` says otherwise.
    ``details`` are said in docs/options.md only, after ``help``."""

    name: str
    help: str
    kind: str = "text"
    default: Any = None
    group: str | None = None
    commands: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    web: bool = False
    details: str = ""
    flags: tuple[str, ...] = ()
    required: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"setting {self.name}: kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def flag(self) -> str:
        """The command line's long flag: ``--style-weight`` for ``style_weight``."""
        return "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        """The setting as messages name it: ``style blend`` for ``style_blend``."""
        return self.name.replace("_", " ")

    def from_text(self, text: str) -> Any:
        """The value that ``text`` (from a form) gives; the default when it is empty; NstError
        with one line when it cannot be read."""
        text = text.strip()
        if not text:
            return self.default
        try:
            if self.kind == "int":
                return int(text)
            if self.kind == "float":
                return float(text)
            if self.kind == "names":
                return split_list(text)
            if self.kind == "numbers":
                return tuple(float(part) for part in split_list(text))
        except ValueError:
            what = {"int": "a whole number", "float": "a number"}.get(self.kind, "comma-separated numbers")
            raise NstError(f"{self.label} must be {what}, got {text!r}") from None
        if self.kind in ("switch", "flag"):
            if text.lower() not in _TRUE + _FALSE:
                raise NstError(f"{self.label} must be on or off, got {text!r}")
            return text.lower() in _TRUE
        return text

    def shown(self, value: Any) -> str:
        """A value as the help and docs/options.md write it."""
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, tuple):
            return ",".join(map(self.shown, value))
        return f"{value:g}" if isinstance(value, float) else str(value)


def split_list(text: str) -> tuple[str, ...]:
    """The parts of a comma-separated list, stripped, empty ones left out."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def setting(
    default: Any,
    help: str,
    group: str | None,
    commands: tuple[str, ...],
    *,
    kind: str,
    choices: tuple[str, ...] | None = None,
    metavar: str | None = None,
    web: bool = False,
    details: str = "",
) -> Any:
    """An :class:`~nst.options.Options` field and its :class:`Setting`: the declaration of one run setting."""
    declared = {"help": help, "kind": kind, "default": default, "group": group, "commands": commands,
                "choices": choices, "metavar": metavar, "web": web, "details": details}  # fmt: skip
    return dataclasses.field(default=default, metadata={"setting": declared})
