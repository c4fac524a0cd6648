"""Print files: a 16-bit TIFF with the sRGB profile, the resolution and the run's settings; the
resolution in every format that carries one; a 16-bit photo kept at 16 bits; --print sizes."""

import io
import sys
import warnings

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageOps

from nst import Options
from nst.media.images import SRGB_PROFILE, NstWarning, load_image
from nst.media.saving import read_metadata, save_image
from nst.media.sixteen_bit import open_deep
from nst.run.inputs import Inputs
from tests.helpers import CONTENT, STYLE, deep_gradient, nst_here, png_bits, swapped_srgb_profile

PARAMS = {"content": "photo-é.jpg", "style": "painting.jpg", "size": 48, "dpi": 300}


def test_a_tiff_is_16_bit_deflate_with_the_srgb_profile_the_resolution_and_the_settings(tmp_path):
    pixels = np.random.default_rng(0).random((30, 50, 3)).astype(np.float32)
    path = save_image(pixels, tmp_path / "print.tif", metadata=PARAMS, dpi=300)
    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages.first
        assert (page.dtype, page.shape, page.photometric) == (np.uint16, (30, 50, 3), tifffile.PHOTOMETRIC.RGB)
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE  # lossless
        assert page.tags["XResolution"].value == (300, 1) and page.tags["YResolution"].value == (300, 1)
        assert page.tags["ResolutionUnit"].value == tifffile.RESUNIT.INCH
        assert page.tags["InterColorProfile"].value == SRGB_PROFILE
        np.testing.assert_array_equal(page.asarray(), np.rint(pixels.astype(np.float64) * 65535).astype(np.uint16))
    with Image.open(path) as image:  # what most software reads it with
        assert image.size == (50, 30) and image.info["dpi"] == (300, 300)
        profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
        assert ImageCms.getProfileDescription(profile).strip() == "sRGB built-in"
        image.load()
    assert read_metadata(path) == PARAMS


@pytest.mark.parametrize(("name", "dpi", "bits"), [("a.png", 300, 8), ("a.png", 254, 16), ("a.jpg", 300, 8),
                                                   ("a.webp", None, 8)])  # fmt: skip
def test_every_format_carries_the_profile_and_the_resolution_it_can(tmp_path, name, dpi, bits):
    pixels = np.random.default_rng(1).random((20, 30, 3)).astype(np.float32)
    path = save_image(pixels, tmp_path / name, metadata=PARAMS, dpi=300 if dpi is None else dpi, bits=bits)
    with Image.open(path) as image:
        assert image.info["icc_profile"] == SRGB_PROFILE
        if dpi is None:  # WebP has no resolution
            assert "dpi" not in image.info
        else:  # PNG keeps pixels per metre: 300 dpi reads back as 299.9994
            assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=1e-3)
        shown = np.asarray(image.convert("RGB"), np.float32) / 255
    if name.endswith(".png"):
        assert png_bits(path) == bits and read_metadata(path) == PARAMS
        tolerance = (1.0 if bits == 16 else 0.5) / 255 + 1e-6  # Pillow shows a 16-bit PNG's high bytes
        assert np.abs(shown - pixels).max() <= tolerance
    if bits == 16:
        deep = open_deep(path)
        np.testing.assert_array_equal(deep, np.rint(pixels.astype(np.float64) * 65535).astype(np.uint16))


def test_a_16_bit_png_keeps_its_transparency(tmp_path):
    pixels = np.random.default_rng(2).random((20, 30, 3)).astype(np.float32)
    alpha = Image.new("L", (30, 20), 255)
    alpha.paste(0, (0, 0, 10, 20))
    with Image.open(save_image(pixels, tmp_path / "a.png", alpha=alpha, bits=16)) as image:
        assert image.mode == "RGBA" and image.getpixel((5, 5))[3] == 0 and image.getpixel((20, 5))[3] == 255
    with tifffile.TiffFile(save_image(pixels, tmp_path / "a.tif", alpha=alpha)) as tiff:
        on_white = tiff.pages.first.asarray()
    assert on_white.shape == (20, 30, 3) and (on_white[:, :10] == 65535).all()  # a print: on white


@pytest.mark.parametrize("kind", ["png", "tiff", "tiff planar", "tiff rgba", "grey png"])
def test_a_16_bit_photo_is_read_at_full_depth(tmp_path, kind):
    deep = deep_gradient()
    path = tmp_path / ("photo.png" if "png" in kind else "photo.tif")
    if kind == "png":
        save_image(deep / 65535, path, bits=16)
    elif kind == "grey png":
        Image.fromarray(deep[..., 0]).save(path)
        deep = np.repeat(deep[..., :1], 3, axis=-1)
    elif kind == "tiff rgba":  # half transparent on the left: on white there
        alpha = np.full(deep.shape[:2] + (1,), 65535, np.uint16)
        alpha[:, :10] = 0
        tifffile.imwrite(path, np.concatenate([deep, alpha], axis=-1), photometric="rgb", extrasamples=[2])
        deep[:, :10] = 65535
    else:
        planar = kind == "tiff planar"
        tifffile.imwrite(path, np.moveaxis(deep, -1, 0) if planar else deep, photometric="rgb",
                         planarconfig="separate" if planar else "contig", compression="zlib")  # fmt: skip
    np.testing.assert_array_equal(open_deep(path), deep)
    assert open_deep(CONTENT) is None  # an 8-bit photo: Pillow reads it whole


def test_a_16_bit_photo_is_turned_upright_as_an_8_bit_one_is(tmp_path):
    deep = deep_gradient(24, 40)
    path = tmp_path / "rotated.tif"
    for orientation in range(1, 9):
        tifffile.imwrite(path, deep, photometric="rgb", extratags=[(274, "H", 1, orientation, True)])
        with Image.open(path) as image:
            upright = np.asarray(ImageOps.exif_transpose(image.convert("RGB")))
        np.testing.assert_array_equal(open_deep(path) >> 8, upright.astype(np.uint16), err_msg=str(orientation))


def test_a_16_bit_photo_not_in_srgb_or_not_decodable_is_read_at_8_bits_with_a_note(tmp_path, monkeypatch):
    profiled = tmp_path / "swapped.tif"
    not_srgb = swapped_srgb_profile().replace("sRGB".encode("utf-16-be"), "xRGB".encode("utf-16-be"))  # its name
    tifffile.imwrite(profiled, deep_gradient(), photometric="rgb", iccprofile=not_srgb)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert open_deep(profiled) is None
    assert [str(w.message) for w in caught if w.category is NstWarning] == [
        f"{profiled}: 16 bits per channel, read at 8: its colours are converted to sRGB at 8 bits"
        " (its profile is not sRGB)"
    ]
    png = save_image(deep_gradient() / 65535, tmp_path / "deep.png", bits=16)
    monkeypatch.setitem(sys.modules, "imagecodecs", None)  # the print extra not installed: import fails
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert open_deep(png) is None
        assert load_image(png).shape == (24, 40, 3)  # still read, at 8 bits
    assert "install nst[print] (imagecodecs)" in str(caught[0].message)


def test_print_sets_the_size_from_the_dpi():
    assert Options(print="30x20cm").size == 3543  # 30 cm at 300 dpi
    assert Options(print="20x30cm").size == 3543  # the longer side, whichever is given first
    assert Options(print="12x8in", dpi=240).size == 2880
    assert Options(print="297 x 210 mm", dpi=100).print_pixels() == (1169, 827)


def test_a_photo_not_of_the_prints_shape_gets_one_line(tmp_path):
    photo = tmp_path / "square.png"
    Image.new("RGB", (60, 60), "grey").save(photo)
    options = Options(print="3x2in", dpi=20)  # 60x40 px
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Inputs.open(photo, STYLE, options)
        Inputs.open(CONTENT, STYLE, options)  # 3:2 within a few percent: no note
    assert [str(w.message) for w in caught if w.category is NstWarning] == [
        f"{photo}: not the print's shape: at 60x60 px and 20 dpi it prints 3x3in, not 3x2in; crop the photo to the"
        " print's shape to fill it exactly"
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--print", "30x20"], "print must be the printed size as WIDTHxHEIGHT with cm, mm or in"),
        (["--print", "0x20cm"], "print must be the printed size"),
        (["--dpi", "0"], "dpi must be 1 to 65535 dots per inch, got 0"),
        (["--print", "30x20cm", "--size", "100"], "give --print or --size, not both"),
        (["--size=512", "--print", "30x20cm"], "give --print or --size, not both"),  # even the default's value
        (["--si", "800", "--print", "30x20cm"], "unrecognized arguments: --si 800"),  # no abbreviations
    ],
)
def test_bad_print_values_get_one_line_and_exit_2(tmp_path, arguments, message):
    result = nst_here(CONTENT, STYLE, "-o", tmp_path / "out.tif", *arguments)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
