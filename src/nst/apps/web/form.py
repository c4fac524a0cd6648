"""A submitted form read as the command line reads its arguments: the photo, the paintings and
the mask (uploads written under names the server makes, or bundled examples chosen by name), and
the run's options from the form's fields, within the server's limits. Anything wrong is an
:class:`~nst.errors.NstError` with the command line's one-line message. The uploads go into a
private folder of the app's (:class:`Uploads`), a folder in it for each form."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from starlette.datastructures import FormData, UploadFile

from nst.apps.web.config import STYLE_STRENGTH, WEB_SETTINGS, WebConfig
from nst.apps.web.jobs import RunRequest
from nst.errors import NstError
from nst.media.images import peek_image
from nst.media.saving import output_name
from nst.options import SETTINGS, Options
from nst.run.inputs import check_inputs

# Pillow reads many more; these are what photos and paintings come as, and fewer decoders
# facing strangers' files means fewer decoder bugs within reach. MPO: many cameras' JPEGs.
ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF")
ACCEPTED_NAMES = "JPEG, PNG, WebP, GIF, BMP or TIFF"
_DEFAULTS = Options()  # the style strength multiplies the default style weight when the form gives none


class Uploads:
    """Where the uploads go: a private folder made when the app starts and removed when it stops,
    and in it a folder for each submitted form."""

    def __init__(self) -> None:
        self.root: Path | None = None

    def start(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="nst-web-"))  # mode 0700: this user's only

    def new_folder(self) -> Path:
        if self.root is None:  # never the shared temporary folder
            raise RuntimeError("the uploads' folder is made when the app starts")
        return Path(tempfile.mkdtemp(dir=self.root))

    def remove(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def request_from_form(form: FormData, folder: Path, config: WebConfig, examples: dict[str, Path]) -> RunRequest:
    """The photo, paintings and options of a submitted form, checked as the command line
    checks them; NstError otherwise. Uploads are written into ``folder``."""
    options = _options(form, config)
    images = _Images(folder, config, examples)
    contents = form.getlist("content")
    if len(contents) != 1:
        raise NstError("choose one photo")
    content = images.add(contents[0], "content")
    paintings = form.getlist("style")
    if not paintings:
        raise NstError("choose at least one painting")
    if len(paintings) > config.max_paintings:
        raise NstError(f"at most {config.max_paintings} paintings at once")
    styles = [images.add(painting, f"style-{index}") for index, painting in enumerate(paintings)]
    mask = form.get("mask")
    if isinstance(mask, UploadFile) and mask.filename:
        options = replace(options, mask=str(images.add(mask, "mask")))
    check_inputs(content, styles, options)
    name = output_name(_safe_name(images.names[content]), [_safe_name(images.names[path]) for path in styles])
    return RunRequest(content, styles, options, name, {str(path): given for path, given in images.names.items()})


class _Images:
    """Uploads written under names the server makes, each in its own folder (two uploads may
    share a name), and examples looked up by name; ``names`` maps each path to what the user
    calls it."""

    def __init__(self, folder: Path, config: WebConfig, examples: dict[str, Path]) -> None:
        self.folder, self.config, self.examples = folder, config, examples
        self.names: dict[Path, str] = {}

    def add(self, item: UploadFile | str, slot: str) -> Path:
        if isinstance(item, str):
            if item not in self.examples:
                raise NstError(f"{item!r} is not one of the examples ({', '.join(self.examples) or 'none here'})")
            self.names[self.examples[item]] = item
            return self.examples[item]
        name = Path(item.filename or "").name[:100] or "upload"  # what the user calls it, for messages
        limit = self.config.max_upload_bytes
        if item.size is not None and item.size > limit:
            raise NstError(f"{name}: {item.size / 2**20:.3g} MB, over the {self.config.max_upload_mb:g} MB limit")
        path = self.folder / slot / _safe_name(name)
        path.parent.mkdir()
        with path.open("wb") as file:
            item.file.seek(0)
            shutil.copyfileobj(item.file, file)
        self.names[path] = name
        self._check(path, name)
        return path

    def _check(self, path: Path, name: str) -> None:
        try:
            kind, (width, height) = peek_image(path)
        except NstError as error:
            raise NstError(str(error).replace(str(path), name)) from None
        if kind not in ACCEPTED_FORMATS:
            raise NstError(f"{name}: a {kind} image; the app takes {ACCEPTED_NAMES}")
        if width * height > self.config.max_pixels:
            raise NstError(
                f"{name}: {width}x{height} is {width * height / 1e6:.3g} million pixels, "
                f"over the limit of {self.config.max_pixels / 1e6:g} million"
            )


def _safe_name(filename: str | None) -> str:
    """A file name that cannot leave its folder, surprise a shell or need quoting in a download."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename or "").name).strip(".")[:80]
    return name or "upload"


def _options(form: FormData, config: WebConfig) -> Options:
    """The run's options from the form's fields (``WEB_SETTINGS``, each read from its field as its
    declaration says, and the style strength); the library validates them as for the command line."""
    values = {setting.name: setting.from_text(_text(form, setting.name)) for setting in WEB_SETTINGS}
    limits = (("size", config.max_size, " px"), ("steps", config.max_steps, ""),
              ("time_budget", config.max_time_budget, " s"))  # fmt: skip
    for name, limit, unit in limits:
        value, setting = values.get(name), SETTINGS[name]
        if value is not None and value > limit:
            raise NstError(
                f"{setting.label} must be at most {setting.shown(limit)}{unit} here, got {setting.shown(value)}"
            )
    strength = STYLE_STRENGTH.from_text(_text(form, STYLE_STRENGTH.name))
    if not 0 < strength < float("inf"):
        raise NstError(f"style strength must be a number > 0, got {strength:g}")
    values["style_weight"] = values.get("style_weight", _DEFAULTS.style_weight) * strength
    return Options(**values)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    if value is not None and not isinstance(value, str):
        raise NstError(f"{name.replace('_', ' ')} must be text, not a file")
    return (value or "").strip()
