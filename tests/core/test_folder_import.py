"""Importing a user's folder of class folders: messy files listed, classes as written, splits, leakage."""

import os
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.core.folder_fixtures import class_tree, noise, png_claiming_size, save, solid
from workbench.core.datasets import Dataset, DatasetError
from workbench.core.datasets import folder_scan
from workbench.core.datasets.folder_import import DEFAULT_MAX_SIDE, TEST_FRACTION, import_folder
from workbench.core.datasets.folder_leakage import MATCH_FILE, MATCH_PIXELS, Leak


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))


def _reasons(result) -> dict[str, str]:
    return {s.path: s.reason for s in result.skipped}


def _messy_folder(root):
    cat = root / "cat"
    for i in range(3):
        save(cat / f"c{i}.jpg", noise((40, 30), i), quality=90)
    save(cat / "2024" / "jan" / "deep.png", noise((16, 16), 50))  # nested: still a cat
    (cat / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(300))
    (cat / "empty.png").write_bytes(b"")
    (cat / "notes.txt").write_text("not a picture")
    (cat / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (cat / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    dog = root / "Dög ü"  # spaces and non-ASCII, as written
    save(dog / "gray.png", solid((16, 16), 90, "L"))
    save(dog / "rgba.png", solid((16, 16), (10, 200, 10, 255), "RGBA"))
    save(dog / "deep.png", Image.fromarray(np.full((16, 16), 40000, np.uint16)))
    save(dog / "palette.gif", solid((16, 16), (0, 0, 255)).convert("P"))
    save(dog / "cmyk.jpg", solid((16, 16), (0, 0, 0, 0), "CMYK"))
    rotated = noise((20, 10), 7)
    exif = Image.Exif()
    exif[0x0112] = 8
    save(dog / "rotated.jpg", rotated, exif=exif)
    save(root / "Zebra" / "z.bmp", noise((16, 16), 8))
    save(root / "Zebra" / "z2.tif", noise((16, 16), 9))
    (root / "nothing here").mkdir()
    (root / "nothing here" / "readme.txt").write_text("no images")
    (root / "loose.jpg").write_bytes(b"")  # not inside any class folder
    return root


def test_a_messy_folder_imports_what_it_can_and_lists_the_rest(tmp_path):
    root = _messy_folder(tmp_path / "photos")
    result = import_folder(root, size=16)
    assert result.dataset.class_names == ("Dög ü", "Zebra", "cat")  # folder names exactly, sorted
    assert result.empty_classes == ("nothing here",)
    reasons = _reasons(result)
    assert "damaged" in reasons["cat/broken.jpg"]
    assert "empty" in reasons["cat/empty.png"]
    assert reasons["cat/notes.txt"] == "not an image (.txt)"
    assert reasons["cat/Thumbs.db"] == "not an image (.db)"
    assert reasons["cat/.DS_Store"] == "a hidden file"
    assert reasons["loose.jpg"] == "not inside a class folder"
    files = result.train_files + result.test_files
    assert "cat/2024/jan/deep.png" in files  # nested subfolders count for their class
    assert len(files) == 4 + 6 + 2
    assert sum(result.train_counts) + sum(result.test_counts) == 12
    x = result.dataset.x_train
    assert x.dtype == np.uint8 and x.shape[1:] == (16, 16, 3)
    assert result.settings.describe() == "16×16 RGB, centre-cropped to fit"
    assert isinstance(result.dataset, Dataset) and result.dataset.id == f"folder:{root.resolve()}"
    assert result.summary() == (f"12 images in 3 classes ({len(result.train_files)} train, {len(result.test_files)} "
                                "test); 16×16 RGB, centre-cropped to fit; 7 files skipped; "
                                "1 class folder without a usable image")
    assert result.dataset.info.archive_name is None
    # Where DatasetInfo records the image shape (after issue 8's merge), it must be the imported one.
    assert getattr(result.dataset.info, "image_shape", (16, 16, 3)) == (16, 16, 3)


def test_every_mode_lands_as_the_expected_pixels(tmp_path):
    root = tmp_path / "modes"
    save(root / "a" / "deep.png", Image.fromarray(np.full((8, 8), 65535, np.uint16)))
    save(root / "a" / "gray.png", solid((8, 8), 90, "L"))
    save(root / "b" / "clear.png", solid((8, 8), (0, 0, 0, 0), "RGBA"))
    save(root / "b" / "palette.gif", solid((8, 8), (0, 0, 255)).convert("P"))
    result = import_folder(root, size=8)
    images = dict(zip(result.train_files + result.test_files,
                      np.concatenate([result.dataset.x_train, result.dataset.x_test])))
    assert (images["a/deep.png"] == 255).all()
    assert (images["a/gray.png"] == 90).all()
    assert (images["b/clear.png"] == 255).all()
    assert images["b/palette.gif"][0, 0].tolist() == [0, 0, 255]


def test_no_test_folder_gives_a_stratified_seeded_held_out_split(tmp_path):
    root = class_tree(tmp_path / "set", {"a": 10, "b": 20, "c": 5})
    first = import_folder(root, size=8)
    assert first.split.source == "held out" and first.split.fraction == TEST_FRACTION
    assert "held out" in first.split.describe()
    assert first.test_counts == (2, 4, 1) and first.train_counts == (8, 16, 4)
    assert not set(first.train_files) & set(first.test_files)
    # Deterministic: a second folder with the same files (its own cache) holds out the same ones.
    copy = shutil.copytree(root, tmp_path / "copy")
    second = import_folder(copy, size=8)
    assert second.test_files == first.test_files and not second.from_cache
    labels = first.dataset.y_test
    assert [first.dataset.class_names[i] for i in labels] == [p.split("/")[0] for p in first.test_files]
    # Every row holds its own file's pixels (test rows were moved around while splitting).
    d = first.dataset
    for x, files in ((d.x_train, first.train_files), (d.x_test, first.test_files)):
        for row, rel in zip(x, files):
            assert np.array_equal(row, np.asarray(Image.open(root / rel).resize((8, 8), Image.LANCZOS)))


def test_train_and_test_folders_are_used_and_leakage_is_reported(tmp_path):
    root = tmp_path / "split"
    class_tree(root / "train", {"ant": 3, "bee": 3}, seed=1)
    class_tree(root / "val", {"ant": 2, "bee": 2}, seed=2)
    shutil.copy(root / "train" / "bee" / "001.png", root / "val" / "bee" / "copy of 001.png")
    # Same picture saved again with extra metadata: different bytes, same pixels.
    Image.open(root / "train" / "ant" / "002.png").save(root / "val" / "ant" / "resaved.png",
                                                        pnginfo=_text_chunk("saved again"))
    result = import_folder(root, size=16)
    assert result.split.source == "folder" and result.split.test_folder == "val"
    assert result.train_counts == (3, 3) and result.test_counts == (3, 3)
    leaks = {(leak.train_path, leak.test_path): leak.match for leak in result.leaks}
    assert leaks == {("train/bee/001.png", "val/bee/copy of 001.png"): MATCH_FILE,
                     ("train/ant/002.png", "val/ant/resaved.png"): MATCH_PIXELS}


def _text_chunk(text):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", text)
    return info


def test_a_grayscale_folder_defaults_to_one_channel(tmp_path):
    root = class_tree(tmp_path / "digits", {"0": 4, "1": 4}, size=(12, 12), mode="L")
    result = import_folder(root)
    assert result.settings.color == "grayscale" and result.dataset.x_train.shape[1:] == (12, 12, 1)
    assert result.defaults == ("size", "color")
    # One colour image among them: RGB for all.
    save(root / "1" / "colour.png", noise((12, 12), 99))
    assert import_folder(root).dataset.x_train.shape[-1] == 3


def test_sizes_may_be_numpy_integers_or_height_width_pairs(tmp_path):
    root = class_tree(tmp_path / "set", {"a": 2, "b": 2}, size=(20, 10))
    assert import_folder(root, size=np.int64(6)).dataset.x_train.shape[1:] == (6, 6, 3)
    assert import_folder(root, size=(5, 10)).dataset.x_train.shape[1:] == (5, 10, 3)


def test_a_64_pixel_folder_keeps_its_size_and_large_photos_are_capped(tmp_path):
    square = class_tree(tmp_path / "s64", {"x": 3, "y": 3}, size=(64, 64), suffix=".jpg")
    assert import_folder(square).dataset.x_train.shape[1:] == (64, 64, 3)
    wide = class_tree(tmp_path / "wide", {"x": 2, "y": 2}, size=(300, 150), suffix=".jpg")
    result = import_folder(wide, fit="pad")
    assert (result.settings.height, result.settings.width) == (DEFAULT_MAX_SIDE // 2, DEFAULT_MAX_SIDE)
    assert result.settings.fit == "pad"


def test_hostile_files_cost_bounded_memory_and_never_block(tmp_path, monkeypatch):
    root = class_tree(tmp_path / "h", {"a": 2, "b": 2}, size=(8, 8))
    png_claiming_size(root / "a" / "bomb.png", 40_000, 40_000)  # 1.6 gigapixels in a 100-byte file
    os.mkfifo(root / "b" / "pipe.jpg")
    save(root / "b" / "large.png", noise((64, 64), 5))
    os.symlink(root / "a", root / "a" / "loop")  # a link loop: walking it would never end
    deep = root / "b" / "/".join(["d"] * (folder_scan.MAX_FOLDER_DEPTH + 1))
    save(deep / "lost.png", noise((8, 8), 6))
    monkeypatch.setattr(folder_scan, "MAX_IMAGE_FILE_BYTES", 5000)
    result = import_folder(root, size=8)
    reasons = _reasons(result)
    assert reasons["a/loop/"] == "a link to a folder (not followed, it may loop)"
    assert any(r.startswith(f"more than {folder_scan.MAX_FOLDER_DEPTH} folder levels") for r in reasons.values())
    assert "megapixels" in reasons["a/bomb.png"]
    assert reasons["b/pipe.jpg"] == "not a regular file (a pipe, socket or device)"
    assert "MB" in reasons["b/large.png"]
    assert sum(result.train_counts) + sum(result.test_counts) == 4


def test_folders_that_cannot_be_imported_say_why_in_one_sentence(tmp_path):
    with pytest.raises(DatasetError, match="There is no folder at"):
        import_folder(tmp_path / "missing")
    (tmp_path / "flat").mkdir()
    save(tmp_path / "flat" / "a.png", noise((8, 8), 1))
    with pytest.raises(DatasetError, match="holds no class folders"):
        import_folder(tmp_path / "flat")
    (tmp_path / "junk" / "a").mkdir(parents=True)
    (tmp_path / "junk" / "a" / "x.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="None of the images"):
        import_folder(tmp_path / "junk")
    class_tree(tmp_path / "one level too high" / "dataset", {"cat": 2, "dog": 2})
    with pytest.raises(DatasetError, match="one class folder only \\('dataset'\\)"):
        import_folder(tmp_path / "one level too high")
    with pytest.raises(DatasetError, match="fit must be"):
        import_folder(tmp_path / "junk", fit="squash")
    for bad in (0, 2000, "32", (32,), (32, 32, 3), True, 32.0):
        with pytest.raises(DatasetError, match="image size must be"):
            import_folder(tmp_path / "junk", size=bad)


def test_a_parser_crash_on_one_file_is_listed_and_the_import_goes_on(tmp_path, monkeypatch):
    from workbench.core.datasets import folder_import

    root = class_tree(tmp_path / "set", {"a": 3, "b": 3}, size=(8, 8))
    real = folder_import.decode_image

    def flaky(data, target, out=None):
        if data == (root / "a" / "001.png").read_bytes():
            raise ZeroDivisionError("a plugin bug")
        return real(data, target, out=out)

    monkeypatch.setattr(folder_import, "decode_image", flaky)
    result = import_folder(root, size=8)
    assert _reasons(result)["a/001.png"] == "could not be decoded (ZeroDivisionError: a plugin bug)"
    assert sum(result.train_counts) + sum(result.test_counts) == 5


def test_class_folders_whose_names_are_not_utf8_get_printable_names(tmp_path):
    root = class_tree(tmp_path / "old", {"a": 2}, size=(8, 8))
    latin1 = os.fsencode(root) + b"/caf\xe9"  # "café" written by an old Latin-1 zip tool
    os.mkdir(latin1)
    save(Path(os.fsdecode(latin1 + b"/x.png")), noise((8, 8), 3))
    save(Path(os.fsdecode(latin1 + b"/y.png")), noise((8, 8), 4))
    result = import_folder(root)
    assert result.dataset.class_names == ("a", "caf\\xe9")
    "; ".join(result.dataset.class_names).encode("utf-8")  # printable: no lone surrogates
    # The files stay openable by their real names.
    assert all((root / p).is_file() for p in result.train_files + result.test_files)


def test_a_damaged_file_never_leaves_a_held_out_class_without_training_images(tmp_path):
    root = tmp_path / "set"
    for c in range(8):
        save(root / f"class {c}" / "good.png", noise((8, 8), c))
        (root / f"class {c}" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    class_tree(root, {"a healthy class": 10}, size=(8, 8), seed=3)  # sorts first: its test rows lie in between
    result = import_folder(root, size=8)
    assert result.empty_classes == ()
    assert result.train_counts == (8,) + (1,) * 8 and result.test_counts == (2,) + (0,) * 8
    # Rows moved back from the test share still hold their own pixels.
    d = result.dataset
    for x, files in ((d.x_train, result.train_files), (d.x_test, result.test_files)):
        for row, rel in zip(x, files):
            assert np.array_equal(row, np.asarray(Image.open(root / rel)))


def test_a_relative_folder_is_recorded_as_an_absolute_one(tmp_path, monkeypatch):
    class_tree(tmp_path / "set", {"a": 2, "b": 2}, size=(8, 8))
    monkeypatch.chdir(tmp_path)
    result = import_folder("set", size=8)
    assert result.root == tmp_path / "set"
    monkeypatch.chdir("/")
    assert all((result.root / rel).is_file() for rel in result.train_files + result.test_files)


def test_a_colour_image_the_size_sample_missed_still_makes_the_set_rgb(tmp_path, monkeypatch):
    from workbench.core.datasets import folder_import

    root = class_tree(tmp_path / "mostly gray", {"a": 3, "b": 3}, size=(8, 8), mode="L")
    save(root / "b" / "zz colour.png", noise((8, 8), 77))  # sorts last: outside a one-file sample
    monkeypatch.setattr(folder_import, "SIZE_SAMPLE", 1)
    result = import_folder(root)
    assert result.settings.color == "rgb" and result.dataset.x_train.shape[-1] == 3
    assert not [p for p in result.cache_folder.iterdir() if p.name.startswith(".pixels")]  # first store removed
    colour = dict(zip(result.train_files + result.test_files,
                      np.concatenate([result.dataset.x_train, result.dataset.x_test])))["b/zz colour.png"]
    assert np.array_equal(colour, np.asarray(Image.open(root / "b" / "zz colour.png")))


def test_leaks_need_equal_pixels_and_a_copy_is_told_by_its_file_checksum():
    from workbench.core.datasets.folder_leakage import find_leaks

    x_train = np.stack([np.full((2, 2, 3), v, np.uint8) for v in (1, 2, 2, 3)])
    x_test = np.stack([np.full((2, 2, 3), v, np.uint8) for v in (2, 9, 3)])
    pixel_crcs = [zlib.crc32(x) for x in x_train] + [zlib.crc32(x) for x in x_test]
    pixel_crcs[4 + 1] = pixel_crcs[0]  # a CRC collision: same checksum, other pixels
    file_crcs = [10, 20, 30, 40, 30, 11, 99]  # test 0 is a copy of train 2; test 2 only looks like train 3
    leaks = find_leaks(["a", "b", "c", "d"], ["t0", "t1", "t2"], file_crcs, pixel_crcs, x_train, x_test)
    assert leaks == (Leak("c", "t0", MATCH_FILE), Leak("d", "t2", MATCH_PIXELS))

