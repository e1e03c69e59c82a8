"""Small real image trees for the folder-import tests, written with Pillow."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def save(path: Path, image: Image.Image, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


def solid(size: tuple[int, int], colour, mode: str = "RGB") -> Image.Image:
    """A one-colour image; size is (width, height) as Pillow has it."""
    return Image.new(mode, size, colour)


def noise(size: tuple[int, int], seed: int, mode: str = "RGB") -> Image.Image:
    """A random image (distinct per seed), so no two fixtures are the same picture by accident."""
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "L": 1}[mode]
    pixels = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    return Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode)


def class_tree(root: Path, counts: dict[str, int], size=(16, 16), mode: str = "RGB", suffix: str = ".png",
               seed: int = 0) -> Path:
    """ROOT/<class>/NNN<suffix> with ``counts[class]`` distinct random images each."""
    for c, (name, count) in enumerate(counts.items()):
        for i in range(count):
            save(root / name / f"{i:03d}{suffix}", noise(size, seed * 100_000 + c * 1000 + i, mode))
    return root


def png_claiming_size(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
