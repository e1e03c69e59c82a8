"""Reading the files keras.datasets leaves for MNIST (mnist.npz) and Fashion-MNIST (IDX .gz files).

Both are checked before anything large is allocated: the .npz's zip directory and each member's
.npy header (dtype, shape, declared size), the IDX header (magic, dimensions). Pixel data is then
read into one preallocated uint8 array, never more than the header declared, so a crafted or
decompression-bomb file costs at most the array it claims to be (itself capped) and never runs code.
"""

from __future__ import annotations

import gzip
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from workbench.core.files import check_regular_file, open_regular_file
from workbench.core.text import sanitize

from .cifar_files import check_label_range
from .errors import DatasetError

IMAGE_SHAPE = (28, 28)
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_FILES = {  # array name -> official file name
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_train": "train-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
}

# The official mnist.npz holds exactly four arrays; a zip with many more members is not one.
MAX_NPZ_MEMBERS = 16
# The official train split holds 60,000 images; a file declaring more than this is not MNIST (and
# its pixels would be allocated before they could be checked).
MAX_IMAGES = 100_000
# .npy headers of the official file are 128 bytes; numpy's own default limit, made explicit.
MAX_NPY_HEADER_BYTES = 10_000
# Labels wider than int64 cannot be class numbers.
MAX_LABEL_ITEMSIZE = 8
_CHUNK = 1 << 20
_IDX_UBYTE = 0x08  # IDX type code for unsigned bytes, the only one the official files use


class _Refused(Exception):
    """Why a file is not the official one: a clause that follows the file's name."""


def _damaged(path: Path, reason: str, official: str) -> DatasetError:
    return DatasetError(f"{path} {reason}; replace it with the official {official}.")


def _npy_header(zf: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, data bytes the member actually holds) from a member's .npy header alone."""
    with zf.open(member) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=MAX_NPY_HEADER_BYTES)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=MAX_NPY_HEADER_BYTES)
        else:
            raise ValueError(f"unsupported .npy version {version}")
        if fortran and len(shape) > 1:
            raise ValueError("its array is stored column-major")
        return tuple(shape), dtype, member.file_size - f.tell()


def _check_npz_member(name: str, shape, dtype: np.dtype, data_bytes: int) -> None:
    if dtype.hasobject or dtype.kind not in "ui":
        raise _Refused(f"holds {dtype} values in '{name}' where MNIST has integers")
    if name.startswith("x_"):
        if dtype != np.uint8 or tuple(shape[1:]) not in (IMAGE_SHAPE, IMAGE_SHAPE + (1,)):
            raise _Refused(f"holds '{name}' of shape {shape} ({dtype}) where MNIST has uint8 N x 28 x 28 images")
    elif len(shape) != 1 or dtype.itemsize > MAX_LABEL_ITEMSIZE:
        raise _Refused(f"holds '{name}' of shape {shape} ({dtype}) where MNIST has one integer label per image")
    if shape[0] > MAX_IMAGES:
        raise _Refused(f"declares {shape[0]:,} entries in '{name}', more than MNIST's {MAX_IMAGES:,} at most")
    declared = int(np.prod(shape)) * dtype.itemsize
    if data_bytes != declared:
        raise _Refused(f"declares {declared:,} bytes of data in '{name}' but holds {data_bytes:,}")


def _npz_headers(path: Path) -> dict[str, tuple]:
    with zipfile.ZipFile(path) as zf:
        members = zf.infolist()
        if len(members) > MAX_NPZ_MEMBERS:
            raise _Refused(f"holds {len(members)} entries where mnist.npz holds 4")
        names = [m.filename for m in members]
        headers = {}
        for key in NPZ_KEYS:
            if names.count(f"{key}.npy") != 1:
                raise _Refused(f"holds the array '{key}' twice" if names.count(f"{key}.npy")
                               else f"has no array '{key}'")
            headers[key] = _npy_header(zf, zf.getinfo(f"{key}.npy"))
            _check_npz_member(key, *headers[key])
    return headers


def read_mnist_npz(path: Path, num_classes: int) -> dict[str, np.ndarray]:
    """{x_train, y_train, x_test, y_test} from an mnist.npz: uint8 N x 28 x 28 x 1 images, int64 labels.

    Raises DatasetError naming the file when it is not a complete, well-formed MNIST file.
    """
    path = Path(path)
    try:
        check_regular_file(path, "dataset file")
    except OSError as exc:
        raise DatasetError(f"{exc.strerror}; replace it with the official mnist.npz.") from None
    try:
        headers = _npz_headers(path)
        for split in ("train", "test"):
            n_images, n_labels = headers[f"x_{split}"][0][0], headers[f"y_{split}"][0][0]
            if n_images != n_labels:
                raise _Refused(f"has {n_images:,} {split} images but {n_labels:,} labels")
        arrays = {}
        # The sizes are checked: np.load now reads each array in bounded chunks and no pickle is allowed.
        with np.load(path, allow_pickle=False) as npz:
            for key in NPZ_KEYS:
                arrays[key] = npz[key]
    # RuntimeError: an encrypted member; NotImplementedError: a compression zipfile cannot read.
    except _Refused as exc:
        raise _damaged(path, str(exc), "mnist.npz") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, RuntimeError, NotImplementedError) as exc:
        raise _damaged(path, f"is damaged or not an .npz file ({sanitize(str(exc), 120)})", "mnist.npz") from None
    for split in ("train", "test"):
        x = arrays[f"x_{split}"]
        arrays[f"x_{split}"] = x.reshape(x.shape[0], *IMAGE_SHAPE, 1)
        labels = arrays[f"y_{split}"].astype(np.int64)
        check_label_range(labels, num_classes, f"{path}: the {split} labels")
        arrays[f"y_{split}"] = labels
    return arrays


def _read_exact(f, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise EOFError(f"it ends after {len(data)} of the {n} header bytes")
    return data


def read_idx(path: Path, item_shape: tuple[int, ...]) -> np.ndarray:
    """The uint8 array of an IDX file (gzipped), shape (N, *item_shape), checked against its header."""
    path = Path(path)
    what = "images" if item_shape else "labels"
    try:
        check_regular_file(path, "dataset file")
    except OSError as exc:
        raise DatasetError(f"{exc.strerror}; replace it with the official {path.name}.") from None
    ndim = 1 + len(item_shape)
    try:
        with open_regular_file(path, "dataset file") as raw, gzip.GzipFile(fileobj=raw) as f:
            magic = _read_exact(f, 4)
            if magic[:2] != b"\0\0" or magic[2] != _IDX_UBYTE or magic[3] != ndim:
                raise _Refused(f"does not start like an IDX file of {what} "
                               f"(magic {magic.hex()}, expected 000008{ndim:02x})")
            dims = struct.unpack(f">{ndim}I", _read_exact(f, 4 * ndim))
            n, rest = dims[0], tuple(dims[1:])
            if rest != tuple(item_shape):
                raise _Refused(f"holds {what} of shape {rest}, not {tuple(item_shape)}")
            if n > MAX_IMAGES:
                raise _Refused(f"declares {n:,} {what}, more than Fashion-MNIST's {MAX_IMAGES:,} at most")
            out = np.empty(n * int(np.prod(item_shape, dtype=np.int64)), dtype=np.uint8)
            view, pos = memoryview(out), 0
            while pos < out.size:
                got = f.readinto(view[pos:pos + _CHUNK])
                if not got:
                    raise _Refused(f"is cut short: its header declares {n:,} {what} "
                                   f"({out.size:,} bytes) but it ends after {pos:,}")
                pos += got
            if f.read(1):
                raise _Refused(f"holds more data than the {n:,} {what} its header declares")
    except _Refused as exc:
        raise _damaged(path, str(exc), path.name) from None
    except (gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
        raise _damaged(path, f"is damaged or not a gzip file ({sanitize(str(exc), 120)})", path.name) from None
    return out.reshape((n, *item_shape))


def read_idx_folder(folder: Path, num_classes: int) -> dict[str, np.ndarray]:
    """{x_train, y_train, x_test, y_test} from a folder of the four official IDX .gz files."""
    folder = Path(folder)
    arrays = {}
    for split in ("train", "test"):
        labels_path = folder / IDX_FILES[f"y_{split}"]
        labels = read_idx(labels_path, ()).astype(np.int64)
        check_label_range(labels, num_classes, f"the labels in {labels_path}")
        images = read_idx(folder / IDX_FILES[f"x_{split}"], IMAGE_SHAPE)
        if len(images) != len(labels):
            raise DatasetError(f"{folder / IDX_FILES[f'x_{split}']} holds {len(images):,} images but "
                               f"{labels_path.name} holds {len(labels):,} labels; they must match.")
        arrays[f"x_{split}"], arrays[f"y_{split}"] = images[..., None], labels
    return arrays
