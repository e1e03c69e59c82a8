"""One image file to pixels (workbench.core.images.decode): every mode, EXIF rotation, crop, pad or stretch,
fast path = general path."""

import io

import numpy as np
import pytest
from PIL import Image

from tests.core.folder_fixtures import noise, png_claiming_size, save, solid
from workbench.core.images import decode, jpeg_fast
from workbench.core.images.decode import _decode_general, decode_image
from workbench.core.images.errors import ImageSkipped
from workbench.core.images.fit import DecodeTarget
from workbench.core.images.jpeg_fast import decode_plain_jpeg
from workbench.core.images.read import read_image_bytes

RGB8 = DecodeTarget(8, 8, 3, "crop")
GRAY8 = DecodeTarget(8, 8, 1, "crop")


def _encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_sixteen_bit_grayscale_is_scaled_not_clipped():
    deep = Image.fromarray(np.array([[0, 32896, 65535, 65535]] * 4, np.uint16))
    assert deep.mode.startswith("I;16")
    pixels, gray = decode_image(_encoded(deep, "PNG"), DecodeTarget(4, 4, 1, "crop"))
    assert gray and pixels.shape == (4, 4, 1) and pixels.dtype == np.uint8
    assert pixels[0, :, 0].tolist() == [0, 128, 255, 255]


def test_transparent_areas_become_white_and_palettes_expand():
    clear = solid((8, 8), (255, 0, 0, 0), "RGBA")
    assert decode_image(_encoded(clear, "PNG"), RGB8)[0].min() == 255
    palette = solid((8, 8), (0, 0, 255)).convert("P")
    pixels, gray = decode_image(_encoded(palette, "PNG"), RGB8)
    assert not gray and pixels[0, 0].tolist() == [0, 0, 255]


def test_cmyk_and_grayscale_become_rgb():
    cmyk = solid((8, 8), (0, 0, 0, 0), "CMYK")  # no ink: white
    pixels, gray = decode_image(_encoded(cmyk, "JPEG", quality=95), RGB8)
    assert not gray and pixels.min() >= 250
    luma, gray = decode_image(_encoded(solid((8, 8), 77, "L"), "PNG"), RGB8)
    assert gray and luma.shape == (8, 8, 3) and (luma == 77).all()


def test_exif_orientation_is_applied():
    # Stored 40 wide × 20 high, left half red; orientation 6 means "turn 90° clockwise to view":
    # upright it is 20 wide × 40 high with red on top.
    stored = Image.new("RGB", (40, 20), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encoded(stored, "JPEG", exif=exif, quality=95)
    pixels, _ = decode_image(data, DecodeTarget(40, 20, 3, "crop"))
    top, bottom = pixels[:15].reshape(-1, 3).mean(0), pixels[25:].reshape(-1, 3).mean(0)
    assert top[0] > 200 and top[2] < 50, top
    assert bottom[2] > 200 and bottom[0] < 50, bottom


def test_crop_keeps_the_centre_and_pad_adds_black_bars():
    wide = Image.new("RGB", (60, 20), (255, 0, 0))
    wide.paste((0, 255, 0), (20, 0, 40, 20))  # the centre square is green
    data = _encoded(wide, "PNG")
    cropped, _ = decode_image(data, DecodeTarget(10, 10, 3, "crop"))
    assert (cropped[..., 1] > 200).all() and (cropped[..., 0] < 30).all()
    padded, _ = decode_image(data, DecodeTarget(12, 12, 3, "pad"))
    assert (padded[:4] == 0).all() and (padded[8:] == 0).all()  # 60×20 shrinks to 12×4 in the middle
    assert padded[5:7, :].max() > 200


@pytest.fixture(params=["simplejpeg", "pillow"])
def jpeg_backend(request, monkeypatch):
    """Each fast-path decoder in turn: simplejpeg (when installed) and Pillow's decoder object."""
    if request.param == "simplejpeg":
        pytest.importorskip("simplejpeg")
    else:
        monkeypatch.setattr(jpeg_fast, "simplejpeg", None)
    return request.param


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_fast_jpeg_path_gives_exactly_the_general_path_pixels(mode, jpeg_backend):
    for seed in range(8):
        # Progressive or not, and each chroma subsampling (4:4:4, 4:2:2, 4:2:0), with restart markers once.
        options = {"progressive": seed % 2 == 1, "subsampling": seed % 3}
        if seed == 4:
            options["restart_marker_blocks"] = 1
        data = _encoded(noise((16, 16), seed, mode), "JPEG", quality=80, **options)
        target = DecodeTarget(16, 16, 3 if mode == "RGB" else 1, "crop")
        fast = np.zeros((16, 16, target.channels), np.uint8)
        gray = decode_plain_jpeg(data, target, fast)
        assert gray is not None, "the fast path should take a plain JPEG at the target size"
        general = _decode_general(data, target)
        assert np.array_equal(fast, general[0]) and gray == general[1]
    # Grayscale JPEG into RGB: the same as Pillow's L -> RGB conversion.
    data = _encoded(noise((16, 16), 9, "L"), "JPEG")
    fast = np.zeros((16, 16, 3), np.uint8)
    assert decode_plain_jpeg(data, DecodeTarget(16, 16, 3, "crop"), fast) is True
    assert np.array_equal(fast, _decode_general(data, DecodeTarget(16, 16, 3, "crop"))[0])


def test_truncated_and_garbage_files_are_skipped_with_a_reason(jpeg_backend):
    data = _encoded(noise((16, 16), 1), "JPEG")
    for broken in (data[: len(data) // 2], b"\xff\xd8\xff\xe0 not really a jpeg", b"hello world"):
        with pytest.raises(ImageSkipped) as caught:
            decode_image(broken, DecodeTarget(16, 16, 3, "crop"))
        assert str(caught.value)


def test_a_header_claiming_too_many_pixels_is_refused_before_decoding(tmp_path):
    import resource

    bomb = png_claiming_size(tmp_path / "bomb.png", 30_000, 30_000)  # 900 megapixels, 2.7 GB if decoded
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImageSkipped, match="megapixels"):
        decode_image(read_image_bytes(str(bomb)), RGB8)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50_000


def test_large_photos_are_decoded_at_reduced_size(tmp_path):
    photo = save(tmp_path / "big.jpg", noise((2400, 1600), 3), quality=70)
    pixels, _ = decode_image(read_image_bytes(str(photo)), DecodeTarget(24, 24, 3, "crop"))
    assert pixels.shape == (24, 24, 3)
    # The codec's 1/8 reduction leaves 300×200; the general path must have asked for it.
    with Image.open(photo) as img:
        decode._draft(img, DecodeTarget(24, 24, 3, "crop"), swapped=False)
        assert img.size == (300, 200)


def test_pipes_are_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ImageSkipped, match="not a regular file"):
        read_image_bytes(str(fifo))


def test_float_images_scale_from_their_range():
    unit = Image.fromarray(np.array([[0.0, 0.5, 1.0, np.nan]] * 4, np.float32))
    assert unit.mode == "F"
    pixels, gray = decode_image(_encoded(unit, "TIFF"), DecodeTarget(4, 4, 1, "crop"))
    assert gray and pixels[0, :, 0].tolist() == [0, 128, 255, 0]


def test_a_read_with_the_scanned_size_is_exact_and_falls_back_when_the_file_changed(tmp_path):
    import os

    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"\xff\xd8" + b"x" * 100)
    assert read_image_bytes(str(photo), size=102) == photo.read_bytes()
    # The file grew or shrank since the scan: the whole current file, not the scanned size.
    assert read_image_bytes(str(photo), size=50) == photo.read_bytes()
    assert read_image_bytes(str(photo), size=500) == photo.read_bytes()
    folder = os.open(tmp_path, os.O_RDONLY)
    try:
        assert read_image_bytes("a.jpg", folder, 102) == photo.read_bytes()
    finally:
        os.close(folder)
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)  # swapped in after a scan that saw a 102-byte file: refused, never waited on
    with pytest.raises(ImageSkipped, match="not a regular file"):
        read_image_bytes(str(fifo), size=102)


def test_the_remembered_jpeg_header_gives_what_a_fresh_walk_gives():
    exif = Image.Exif()
    exif[0x0112] = 6
    files = [_encoded(noise((16, 16), 1), "JPEG"), _encoded(noise((16, 16), 2), "JPEG"),
             _encoded(noise((16, 16), 3), "JPEG", exif=exif), _encoded(noise((16, 12), 4), "JPEG"),
             _encoded(noise((16, 16), 5, "L"), "JPEG"), _encoded(noise((16, 16), 6), "PNG"),
             _encoded(noise((16, 16), 7), "JPEG")]
    fresh = []
    for data in files:
        jpeg_fast._last_header = (b"", None)
        fresh.append(jpeg_fast._jpeg_header(data))
    remembered = [jpeg_fast._jpeg_header(data) for data in files + files[::-1]]
    assert remembered == fresh + fresh[::-1]
    assert fresh[0] == fresh[1] == (16, 16, 3) and fresh[2] is None and fresh[3] == (12, 16, 3)
