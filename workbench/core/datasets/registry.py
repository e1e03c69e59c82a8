"""What each dataset is: id, title, class names, sizes and where its official archive lives.

Everything here is known before any data is downloaded, so the GUI and CLI can show it offline.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import DatasetError


@dataclass(frozen=True)
class DatasetInfo:
    id: str
    title: str
    num_classes: int
    class_names: tuple[str, ...]
    train_size: int
    test_size: int
    archive_name: str | None  # official archive file, None for generated sets
    folder_name: str | None  # folder the archive unpacks to
    url: str | None
    md5: str | None


CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)

CIFAR100_FINE_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
    "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
    "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup",
    "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house",
    "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man",
    "maple_tree", "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid",
    "otter", "palm_tree", "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy",
    "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal",
    "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar",
    "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
    "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
)

CIFAR100_COARSE_CLASSES = (
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people",
    "reptiles", "small_mammals", "trees", "vehicles_1", "vehicles_2",
)

BUILTIN_CLASSES = ("circle", "square", "stripes", "cross", "triangle")

OFFICIAL_BASE_URL = "https://www.cs.toronto.edu/~kriz/"

_CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
_CIFAR100_ARCHIVE = "cifar-100-python.tar.gz"
_CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
_CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"

DATASETS: dict[str, DatasetInfo] = {
    "cifar10": DatasetInfo(
        "cifar10", "CIFAR-10", 10, CIFAR10_CLASSES, 50_000, 10_000,
        _CIFAR10_ARCHIVE, "cifar-10-batches-py", OFFICIAL_BASE_URL + _CIFAR10_ARCHIVE, _CIFAR10_MD5,
    ),
    "cifar100": DatasetInfo(
        "cifar100", "CIFAR-100 (100 fine classes)", 100, CIFAR100_FINE_CLASSES, 50_000, 10_000,
        _CIFAR100_ARCHIVE, "cifar-100-python", OFFICIAL_BASE_URL + _CIFAR100_ARCHIVE, _CIFAR100_MD5,
    ),
    "cifar100-coarse": DatasetInfo(
        "cifar100-coarse", "CIFAR-100 (20 superclasses)", 20, CIFAR100_COARSE_CLASSES,
        50_000, 10_000,
        _CIFAR100_ARCHIVE, "cifar-100-python", OFFICIAL_BASE_URL + _CIFAR100_ARCHIVE, _CIFAR100_MD5,
    ),
    "builtin": DatasetInfo(
        "builtin", "Built-in shapes (synthetic, no download)", len(BUILTIN_CLASSES),
        BUILTIN_CLASSES, 2_000, 500, None, None, None, None,
    ),
}


def get_info(dataset_id: str) -> DatasetInfo:
    """The registry entry for ``dataset_id``; an unknown id raises DatasetError listing the known ones."""
    try:
        return DATASETS[dataset_id]
    except KeyError:
        known = ", ".join(DATASETS)
        raise DatasetError(f"Unknown dataset {dataset_id!r}; known datasets are: {known}.") from None
