"""Every image people have, and every bad file they throw at it: generated here, read by nst, and
refused in one line before a run (as the command, and by the memory it would need)."""

import io
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from nst import NstError, Options
from nst.media.images import NstWarning, load_image, open_image_with_alpha
from nst.run.memory import check_memory, estimate_peak_mb, planned_mb
from tests.helpers import BLUE, CONTENT, RED, STYLE, WHITE, halves, nst_here, swapped_srgb_profile


def rgb8(pixels: np.ndarray) -> tuple[int, ...]:
    return tuple(int(round(value * 255)) for value in pixels)


def test_jpeg_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    halves().save(path, exif=exif, quality=95)
    pixels = load_image(path)
    assert pixels.shape == (40, 20, 3)  # stored 40x20, shown 20x40
    assert rgb8(pixels[2, 10])[0] > 200 and rgb8(pixels[-3, 10])[2] > 200  # red on top, blue below


def test_alpha_is_flattened_on_white_for_the_transfer_and_kept(tmp_path):
    image = halves().convert("RGBA")
    alpha = Image.new("L", image.size, 0)  # the left (red) half fully transparent
    alpha.paste(255, (20, 0, 40, 20))
    image.putalpha(alpha)
    path = tmp_path / "alpha.png"
    image.save(path)
    rgb, kept = open_image_with_alpha(path)
    assert rgb.getpixel((5, 5)) == WHITE and rgb.getpixel((30, 5)) == BLUE
    assert kept.getpixel((5, 5)) == 0 and kept.getpixel((30, 5)) == 255


@pytest.mark.parametrize(
    ("name", "make", "expected_left"),
    [
        ("palette.png", lambda: halves().convert("P"), RED),
        ("grey.png", lambda: halves(left=(100, 100, 100), right=WHITE, mode="L"), (100, 100, 100)),
        ("picture.webp", lambda: halves(), RED),
        ("picture.tiff", lambda: halves(), RED),
        ("picture.bmp", lambda: halves(), RED),
    ],
)
def test_common_formats_load_as_rgb(tmp_path, name, make, expected_left):
    path = tmp_path / name
    options = {"lossless": True} if name.endswith(".webp") else {}
    make().save(path, **options)
    pixels = load_image(path)
    assert pixels.shape == (20, 40, 3)
    assert np.abs(np.array(rgb8(pixels[10, 5])) - expected_left).max() <= 2


def test_16_bit_greyscale_keeps_its_tones(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((20, 30), 32896, dtype=np.uint16)).save(path)  # 32896 / 65535 = 128 / 255
    assert Image.open(path).mode.startswith("I")
    assert rgb8(load_image(path)[0, 0]) == (128, 128, 128)


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (30, 20), (255, 0, 0, 0)).save(path, quality=95)  # pure cyan ink
    red, green, blue = rgb8(load_image(path)[10, 10])
    assert red < 40 and green > 200 and blue > 200


def test_embedded_icc_profile_is_converted_to_srgb(tmp_path):
    path = tmp_path / "profiled.png"
    Image.new("RGB", (8, 8), RED).save(path, icc_profile=swapped_srgb_profile())
    assert rgb8(load_image(path)[0, 0]) == BLUE
    broken = tmp_path / "broken-profile.png"
    Image.new("RGB", (8, 8), RED).save(broken, icc_profile=b"not a profile")
    assert rgb8(load_image(broken)[0, 0]) == RED  # a broken profile: the pixels as they are


def test_animated_gif_gives_its_first_frame_and_a_note(tmp_path):
    path = tmp_path / "moving.gif"
    Image.new("RGB", (16, 16), RED).save(path, save_all=True, append_images=[Image.new("RGB", (16, 16), BLUE)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pixels = load_image(path)
    assert rgb8(pixels[0, 0]) == RED
    assert [str(w.message) for w in caught if w.category is NstWarning] == [f"{path}: animated; using its first frame"]


def written(path, data: bytes):
    path.write_bytes(data)
    return path


def truncated(source, name):
    def make(folder):
        data = io.BytesIO()
        Image.open(source).save(data, format=name.split(".")[-1].replace("jpg", "jpeg"))
        path = folder / name
        path.write_bytes(data.getvalue()[: len(data.getvalue()) // 2])
        return path

    return make


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda folder: written(folder / "empty.jpg", b""), "empty.jpg: empty file"),
        (truncated(CONTENT, "half.jpg"), "half.jpg: cannot read image"),
        (truncated(CONTENT, "half.png"), "half.png: cannot read image"),
        (lambda folder: written(folder / "notes.jpg", b"hello"), "notes.jpg: not an image Pillow can read"),
        (lambda folder: folder, "is a folder"),
        (lambda folder: folder / "missing.png", "missing.png: no such file"),
        (lambda folder: halves(size=(4000, 8)).save(folder / "strip.png") or folder / "strip.png", "too narrow"),
    ],
    ids=["zero-bytes", "truncated-jpeg", "truncated-png", "text", "folder", "missing", "4000x8"],
)
def test_bad_files_get_one_line_exit_2_and_no_output(tmp_path, make, message):
    output = tmp_path / "out.png"
    result = nst_here(make(tmp_path), STYLE, "-o", output)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("nst: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert not output.exists()


def test_a_decompression_bomb_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    Image.new("RGB", (300, 300)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50_000)  # Pillow's limit, lowered: 90,000 px is "too many"
    with pytest.raises(NstError, match="bomb.png: refused, too many pixels"):
        load_image(path)


def test_a_one_pixel_image_is_scaled_up(tmp_path):
    path = tmp_path / "dot.png"
    Image.new("RGB", (1, 1), RED).save(path)
    pixels = load_image(path, 32)  # 1x1 is an image: scaled up, it is a flat colour
    assert pixels.shape == (32, 32, 3) and rgb8(pixels[16, 16]) == RED


def test_existing_output_is_kept_unless_overwrite(tmp_path):
    output = tmp_path / "out.png"
    output.write_bytes(b"precious")
    result = nst_here(CONTENT, STYLE, "-o", output)
    assert result.returncode == 2 and "already exists; pass --overwrite" in result.stderr
    assert output.read_bytes() == b"precious"


VALID = {}
for _format in ("PNG", "JPEG", "GIF"):
    _buffer = io.BytesIO()
    halves().save(_buffer, format=_format)
    VALID[_format] = _buffer.getvalue()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=512),
        st.tuples(
            st.sampled_from(sorted(VALID)),
            st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
            st.integers(0, 10_000),
        ).map(
            lambda spec: bytes(
                value
                for index, value in enumerate(_mutate(VALID[spec[0]], spec[1]))
                if index < len(VALID[spec[0]]) - spec[2] % 64
            )
        ),
    )
)
@example(data=b"GIF87a\x00\x00\x00\x00\x00\x00\x00,\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00!")  # Pillow: IndexError
def test_fuzzed_bytes_load_or_raise_nst_error(tmp_path, data):
    path = tmp_path / "fuzz.img"
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pixels = load_image(path)
        except NstError:
            return
    assert pixels.ndim == 3 and pixels.shape[2] == 3


def _mutate(data: bytes, changes: list[tuple[int, int]]) -> bytearray:
    mutated = bytearray(data)
    for position, value in changes:
        mutated[position % len(mutated)] = value
    return mutated


def test_memory_is_checked_before_the_run_and_the_advice_fits(tmp_path):
    output = tmp_path / "out.png"
    result = nst_here(CONTENT, STYLE, "-o", output, "--size", 1024, "--max-memory", 1700)
    assert result.returncode == 2 and not output.exists()
    assert result.stderr.startswith("nst: error: 1024 px needs about ") and "1700 MB are available" in result.stderr
    largest = int(result.stderr.split("--size ")[1])
    fits, too_big = (Options(size=size, max_memory=1700) for size in (largest, largest + 8))
    height, width = load_image(CONTENT, largest).shape[:2]
    assert check_memory(fits, height, width).estimate_mb <= planned_mb(1700)
    with pytest.raises(NstError, match="needs about"):
        check_memory(too_big, *load_image(CONTENT, largest + 8).shape[:2])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--size", 100_000], "100000 px needs about "),
        (["--style-size", 100_000], "the painting at 100000 px needs about "),
        (["--style-scale", 1000], "the painting at 512000 px needs about "),
    ],
    ids=["size", "style-size", "style-scale"],
)
def test_sizes_that_would_need_far_more_than_the_memory_are_refused_at_once(tmp_path, arguments, message):
    output = tmp_path / "out.png"
    result = nst_here(CONTENT, STYLE, "-o", output, *arguments)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"nst: error: {message}") and result.stderr.count("\n") == 1, result.stderr
    needed_mb = float(result.stderr.split(" about ")[1].split()[0])
    assert needed_mb > 5e4  # tens of gigabytes even in tiles: refused by arithmetic, nothing was resized
    assert not output.exists()


def test_the_number_of_paintings_counts_in_the_memory_estimate():
    options = Options(max_memory=3000)
    assert check_memory(options, 300, 451, [(451, 300)] * 2).estimate_mb <= planned_mb(3000)
    with pytest.raises(NstError, match="^1000 paintings at up to 451 px need about .* choose fewer paintings"):
        check_memory(options, 300, 451, [(451, 300)] * 1000)


def test_memory_estimate_grows_with_pixels_and_the_lbfgs_history():
    small, large = estimate_peak_mb(Options(), 100, 100), estimate_peak_mb(Options(), 200, 200)
    assert large > small
    assert (
        estimate_peak_mb(Options(lbfgs_history=60), 200, 200)
        > large
        > estimate_peak_mb(Options(optimizer="adam"), 200, 200)
    )


def test_an_unreadable_file_says_permission_denied(tmp_path, monkeypatch):
    # The tests run as root, who may read any file, so the refusal is what Pillow would raise.
    path = tmp_path / "secret.png"
    Image.new("RGB", (8, 8)).save(path)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Image, "open", refuse)
    with pytest.raises(NstError, match=r"secret.png: permission denied$"):
        load_image(path)
