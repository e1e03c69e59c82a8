"""What each dataset is: id, title, class names, image shape, sizes and where its official files live.

Everything here is known before any data is downloaded, so the GUI and CLI can show it offline.
``resolve.get_info`` looks up these ids, the user's dataset names and paths.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceFile:
    """One official file of a dataset shipped as plain files (MNIST, Fashion-MNIST), as Keras fetches it."""

    name: str
    sha256: str
    size: int  # official bytes: sizes the download progress before the server says


@dataclass(frozen=True)
class DatasetInfo:
    """A registered dataset. Fields after ``md5`` have defaults, so older positional uses keep working."""

    id: str
    title: str
    num_classes: int
    class_names: tuple[str, ...]
    train_size: int
    test_size: int
    archive_name: str | None  # official archive file, None for generated sets
    folder_name: str | None  # folder the archive unpacks to (Fashion-MNIST: the Keras cache subfolder)
    url: str | None  # the archive's address; for plain-file layouts the folder the files' names follow
    md5: str | None
    image_shape: tuple[int, int, int] = (32, 32, 3)  # height, width, channels of every image
    layout: str = "cifar"  # on disk: "cifar" (pickled batches), "npz" (mnist.npz), "idx" (IDX .gz files), "generated"
    files: tuple[SourceFile, ...] = ()  # the official files of an "npz" or "idx" layout, in download order
    # A mirrored image shows the same class: augmentation may flip it. Not so for digits (a mirrored 2,
    # 3, 7 is no digit); clothing, objects and photos keep their class in a mirror.
    mirror_safe: bool = True
    # How images of another shape were fitted to image_shape when imported: "crop" (centre-crop) or
    # "pad" (letterbox); None for the fixed-size official sets. Saved models record it for classify.
    fit: str | None = None


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

MNIST_CLASSES = tuple(str(digit) for digit in range(10))

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

BUILTIN_CLASSES = ("circle", "square", "stripes", "cross", "triangle")

OFFICIAL_BASE_URL = "https://www.cs.toronto.edu/~kriz/"

_CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
_CIFAR100_ARCHIVE = "cifar-100-python.tar.gz"
_CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
_CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"

KERAS_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# Keras' own hash (keras/src/datasets/mnist.py).
MNIST_FILES = (
    SourceFile("mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", 11_490_434),
)
# Keras checks no hash for these; these are the SHA-256 of Zalando's published files (whose MD5s
# torchvision checks), which Keras' copies match in size. In the order keras.datasets fetches them.
FASHION_MNIST_FILES = (
    SourceFile("train-labels-idx1-ubyte.gz",
               "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29_515),
    SourceFile("train-images-idx3-ubyte.gz",
               "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26_421_880),
    SourceFile("t10k-labels-idx1-ubyte.gz",
               "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5_148),
    SourceFile("t10k-images-idx3-ubyte.gz",
               "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4_422_102),
)

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
    "mnist": DatasetInfo(
        "mnist", "MNIST (handwritten digits)", 10, MNIST_CLASSES, 60_000, 10_000,
        None, None, KERAS_BASE_URL, None,
        image_shape=(28, 28, 1), layout="npz", files=MNIST_FILES, mirror_safe=False,
    ),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist", "Fashion-MNIST (clothing)", 10, FASHION_MNIST_CLASSES, 60_000, 10_000,
        None, "fashion-mnist", KERAS_BASE_URL, None,
        image_shape=(28, 28, 1), layout="idx", files=FASHION_MNIST_FILES,
    ),
    "builtin": DatasetInfo(
        "builtin", "Built-in shapes (synthetic, no download)", len(BUILTIN_CLASSES),
        BUILTIN_CLASSES, 2_000, 500, None, None, None, None, layout="generated",
    ),
}

