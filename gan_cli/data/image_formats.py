"""Image file formats: MNIST (IDX files), CIFAR-10 (python pickles read with a restricted
unpickler) and a folder of PNG/JPEG files, read with numpy and Pillow only (no torchvision,
nothing downloaded).

Every reader returns a uint8 array N×C×H×W and checks its input strictly: a problem with the
files raises one GanRunError line that names ``dataset.path``, the offending file, what is
wrong and what was expected, so ``gan-run`` reports it like any other bad value (exit 2).

Resolution: every dataset is resized to ``resolution``×``resolution`` with Pillow (LANCZOS):
the short side is scaled to ``resolution`` and the centre is cropped. MNIST (28×28) and
CIFAR-10 (32×32) are square, so for them this is a plain resize, and it is skipped at the
native size.
"""

from __future__ import annotations

import builtins
import codecs
import gzip
import pickle
import zlib
from pathlib import Path

import numpy as np

from gan_cli.config import require
from gan_cli.errors import GanRunError

#: IDX magic numbers: two zero bytes, type code 0x08 (unsigned byte), number of dimensions
IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801
MNIST_FILES = {"train": "train-images-idx3-ubyte", "test": "t10k-images-idx3-ubyte"}
LABEL_FILES = {"train": "train-labels-idx1-ubyte", "test": "t10k-labels-idx1-ubyte"}
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def _one_line(text: object) -> str:
    # messages from zlib, pickle or Pillow may span lines; gan-run prints exactly one
    return " ".join(str(text).split())


def _error(path: object, what: str) -> GanRunError:
    return GanRunError(f"dataset.path={path}: {_one_line(what)}")


def _folder(path: str | Path, expected: str) -> Path:
    """``path`` as an existing folder, or a GanRunError that says what should be in it."""
    if not str(path).strip():  # Path("") is the current folder: never what was meant
        raise _error("", f"the path is empty; expected a folder holding {expected}")
    folder = Path(path).expanduser()
    if not folder.exists():
        raise _error(path, f"{folder} does not exist; expected a folder holding {expected}")
    if not folder.is_dir():
        raise _error(path, f"{folder} is not a folder; expected a folder holding {expected}")
    return folder


def _check_resolution(resolution: object) -> int:
    return int(require("dataset.resolution", resolution))


def _check_channels(channels: object) -> int:
    return int(require("dataset.channels", channels))


# --------------------------------------------------------------------------------------------
# MNIST: IDX files


def _read_bytes(path: object, file: Path) -> bytes:
    """The file's bytes, gunzipped if it ends in .gz."""
    try:
        if file.suffix == ".gz":
            with gzip.open(file, "rb") as f:
                return f.read()
        return file.read_bytes()
    except (OSError, EOFError, zlib.error) as e:  # gzip raises all three for a damaged file
        # BadGzipFile (an OSError without errno), EOFError and zlib.error: the content is damaged
        if file.suffix == ".gz" and not (isinstance(e, OSError) and e.errno is not None):
            raise _error(path, f"{file} is not a valid gzip file ({e}); expected a gzip-compressed IDX file "
                               "as downloaded from http://yann.lecun.com/exdb/mnist/") from e
        raise _error(path, f"{file} cannot be read ({e})") from e


def _parse_idx_images(path: object, file: Path, data: bytes) -> np.ndarray:
    """IDX image layout (http://yann.lecun.com/exdb/mnist/), every integer big-endian:

    offset 0: magic 0x00000803 (2 zero bytes, type 0x08 = unsigned byte, 3 dimensions);
    offset 4, 8, 12: N, rows, columns (uint32 each); offset 16: N·rows·columns pixels, row-major,
    0 = background (white), 255 = foreground (black).
    """
    if len(data) < 16:
        raise _error(path, f"{file} is truncated: {len(data)} bytes, fewer than the 16-byte IDX header; "
                           "expected an IDX image file (magic 0x00000803, then N, rows, columns)")
    magic, n, rows, cols = (int(v) for v in np.frombuffer(data, dtype=">u4", count=4))
    if magic != IDX_IMAGES_MAGIC:
        hint = " (that is an IDX label file)" if magic == IDX_LABELS_MAGIC else ""
        raise _error(path, f"{file} has magic number 0x{magic:08x}{hint}; expected 0x{IDX_IMAGES_MAGIC:08x} "
                           "(IDX images: unsigned bytes, 3 dimensions)")
    if n < 1 or rows < 1 or cols < 1:
        raise _error(path, f"{file} has a header of {n}×{rows}×{cols} images; expected at least one image "
                           "of at least 1×1 pixels")
    expected = n * rows * cols
    found = len(data) - 16
    if found < expected:
        raise _error(path, f"{file} is truncated: its header says {n}×{rows}×{cols} = {expected} pixel bytes, "
                           f"the file holds {found}; expected the whole file (download it again)")
    if found > expected:
        raise _error(path, f"{file} has {found - expected} bytes more than its header's {n}×{rows}×{cols} "
                           f"images; expected exactly {expected} pixel bytes after the 16-byte header")
    # a copy: frombuffer's view of ``bytes`` is read-only, and torch warns on read-only arrays
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, 1, rows, cols).copy()


def _find_idx(path: object, folder: Path, split: str) -> Path:
    stem = MNIST_FILES[split]
    # torchvision keeps the same files under MNIST/raw: accept that layout too
    for where in (folder, folder / "MNIST" / "raw"):
        for name in (stem, stem + ".gz"):
            if (where / name).is_file():
                return where / name
    raise _error(path, f"no {stem} or {stem}.gz in {folder} (nor in {folder / 'MNIST' / 'raw'}); expected the "
                       "MNIST image file from http://yann.lecun.com/exdb/mnist/, plain or gzip-compressed")


def read_idx(path: str | Path, include_test: bool = False) -> np.ndarray:
    """The MNIST images in folder ``path`` as uint8 N×1×28×28 (0 = background).

    Reads ``train-images-idx3-ubyte`` or ``train-images-idx3-ubyte.gz`` (the plain file if both
    are there), plus ``t10k-images-idx3-ubyte[.gz]`` if ``include_test``. The folder may also be
    torchvision's root, with the files under ``MNIST/raw``. Label files are not read: a GAN
    needs only the images. Fashion-MNIST has the same file names and layout, so it loads too.
    """
    folder = _folder(path, "train-images-idx3-ubyte or train-images-idx3-ubyte.gz (MNIST)")
    parts = []
    for split in ("train", "test") if include_test else ("train",):
        file = _find_idx(path, folder, split)
        parts.append(_parse_idx_images(path, file, _read_bytes(path, file)))
    if len({p.shape[1:] for p in parts}) > 1:
        raise _error(path, f"the train and t10k images differ in size ({parts[0].shape[2:]} and "
                           f"{parts[1].shape[2:]}); expected the same rows×columns in both files")
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def read_idx_labels(path: str | Path, include_test: bool = False) -> np.ndarray | None:
    """The digits of MNIST's images in folder ``path``: ``train-labels-idx1-ubyte[.gz]`` (and
    ``t10k-labels-idx1-ubyte[.gz]``), IDX with magic 0x00000801, N, then N bytes 0..9.
    None when a label file is absent (a GAN needs only the images)."""
    folder = _folder(path, "MNIST IDX files")
    parts = []
    for split in ("train", "test") if include_test else ("train",):
        stem = LABEL_FILES[split]
        files = [w / n for w in (folder, folder / "MNIST" / "raw") for n in (stem, stem + ".gz") if (w / n).is_file()]
        if not files:
            return None
        data = _read_bytes(path, files[0])
        magic, n = (int(v) for v in np.frombuffer(data[:8], dtype=">u4")) if len(data) >= 8 else (0, 0)
        if magic != IDX_LABELS_MAGIC or len(data) != 8 + n:
            raise _error(path, f"{files[0]} is not an IDX label file of its stated length; expected magic "
                               f"0x{IDX_LABELS_MAGIC:08x}, N, then N label bytes")
        parts.append(np.frombuffer(data, dtype=np.uint8, offset=8).astype(np.int64))
    return np.concatenate(parts)


# --------------------------------------------------------------------------------------------
# CIFAR-10: python-version pickle batches


def _numpy_reconstruct():
    # numpy 2 moved numpy.core to numpy._core; old pickles (CIFAR-10's from 2009) name numpy.core
    try:
        from numpy._core import multiarray, numeric
    except ImportError:  # numpy < 2
        from numpy.core import multiarray, numeric
    return multiarray._reconstruct, numeric._frombuffer


_RECONSTRUCT, _FROMBUFFER = _numpy_reconstruct()

#: the only globals a CIFAR-10 batch may name: what rebuilds an ndarray, and plain containers.
#: Anything else (os.system, builtins.eval, ...) would run code while unpickling.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,  # ndarrays pickled with protocol 5
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,  # bytes pickled by Python 3 with protocol 2
    **{("builtins", name): getattr(builtins, name) for name in ("bytes", "bytearray", "dict", "list", "tuple", "set", "frozenset", "int", "float", "str")},
}


class _CifarUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only ``_ALLOWED_GLOBALS``: a pickle can run any callable it
    names, so a batch from an untrusted source must not name any other."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _ForbiddenGlobal(f"{module}.{name}") from None


class _ForbiddenGlobal(Exception):
    pass


def _load_cifar_batch(path: object, file: Path, labels_out: list | None = None) -> np.ndarray:
    """One batch of the CIFAR-10 python version (https://www.cs.toronto.edu/~kriz/cifar.html):
    a pickled dict whose ``b"data"`` is a uint8 N×3072 array, each row one 32×32 image as
    1024 red, then 1024 green, then 1024 blue values, row-major; ``b"labels"`` N ints in 0..9.
    """
    expected = 'a pickled dict with b"data" (N×3072 uint8) and b"labels" (CIFAR-10 python version)'
    try:
        with open(file, "rb") as f:
            # encoding="bytes": the batches were pickled by Python 2; keep its str as bytes
            batch = _CifarUnpickler(f, encoding="bytes").load()
    except _ForbiddenGlobal as e:
        raise _error(path, f"{file} asks to load {e} while unpickling, which a CIFAR-10 batch never does "
                           "(a pickle can run code); refusing to load it; expected only numpy arrays, lists, "
                           "dicts and bytes") from None
    except OSError as e:
        raise _error(path, f"{file} cannot be read ({e})") from e
    except Exception as e:  # truncated or not a pickle: pickle raises many types for bad input
        raise _error(path, f"{file} is not a readable pickle ({type(e).__name__}: {e}); expected {expected}; "
                           "a truncated download gives this too") from None
    if not isinstance(batch, dict):
        raise _error(path, f"{file} holds a {type(batch).__name__}, not a dict; expected {expected}")
    keys = ", ".join(repr(k) for k in batch) or "none"
    # the official files have bytes keys; accept str keys from a batch re-pickled by Python 3
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    missing = [k for k in ("data", "labels") if k not in batch]
    if missing:
        raise _error(path, f"{file} has no {' or '.join(repr(k.encode()) for k in missing)} key (its keys: "
                           f"{keys}); expected {expected}")
    data, labels = batch["data"], batch["labels"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        found = (f"a {data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
                 else f"a {type(data).__name__}")
        raise _error(path, f'{file}: b"data" is {found}; expected a uint8 array of shape N×3072 '
                           "(N images of 3×32×32)")
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        labels = None
    if labels is None or len(labels) != len(data) or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise _error(path, f'{file}: b"labels" does not match b"data"; expected {len(data)} integers in 0..9')
    if labels_out is not None:  # the classes, for the evaluation's feature classifier
        labels_out.append(labels)
    return data.reshape(-1, 3, 32, 32)


def read_cifar10(path: str | Path, include_test: bool = False, labels_out: list | None = None) -> np.ndarray:
    """The CIFAR-10 images in folder ``path`` as uint8 N×3×32×32.

    Reads ``data_batch_1`` .. ``data_batch_5`` (50,000 images), plus ``test_batch`` if
    ``include_test``, from ``path`` or ``path/cifar-10-batches-py`` (the folder the
    python-version archive unpacks to). Every batch is unpickled with an Unpickler that
    refuses any global other than numpy's array reconstruction and plain containers.
    """
    names = CIFAR10_TRAIN + ((CIFAR10_TEST,) if include_test else ())
    folder = _folder(path, f"{', '.join(names)} (CIFAR-10 python version)")
    if not (folder / names[0]).is_file() and (folder / "cifar-10-batches-py").is_dir():
        folder = folder / "cifar-10-batches-py"
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise _error(path, f"{', '.join(missing)} missing in {folder}; expected {', '.join(names)} from the "
                           "CIFAR-10 python version (cifar-10-python.tar.gz, unpacked)")
    return np.concatenate([_load_cifar_batch(path, folder / n, labels_out) for n in names])


# --------------------------------------------------------------------------------------------
# A folder of PNG / JPEG files


def _resize_square(image, resolution: int):
    """Scale a PIL image so its short side is ``resolution``, then crop the centre square."""
    from PIL import Image

    w, h = image.size
    if (w, h) == (resolution, resolution):
        return image
    scale = resolution / min(w, h)
    size = (max(resolution, round(w * scale)), max(resolution, round(h * scale)))
    # LANCZOS filters when shrinking, so large photos do not alias
    image = image.resize(size, Image.Resampling.LANCZOS)
    left, top = (size[0] - resolution) // 2, (size[1] - resolution) // 2
    return image.crop((left, top, left + resolution, top + resolution))


def _resize_all(images: np.ndarray, resolution: int) -> np.ndarray:
    """Resize uint8 N×C×H×W square images to ``resolution`` with Pillow, one image at a time."""
    if images.shape[2:] == (resolution, resolution):
        return images
    from PIL import Image

    channels = images.shape[1]
    out = np.empty((len(images), channels, resolution, resolution), dtype=np.uint8)
    for i, image in enumerate(images):
        pil = Image.fromarray(image[0] if channels == 1 else image.transpose(1, 2, 0))
        resized = np.asarray(_resize_square(pil, resolution))
        out[i] = resized[None] if channels == 1 else resized.transpose(2, 0, 1)
    return out


def read_image_folder(path: str | Path, resolution: int, channels: int = 3) -> np.ndarray:
    """Every .png, .jpg and .jpeg file under folder ``path`` (recursively, in sorted order) as
    uint8 N×C×resolution×resolution: converted to RGB (``channels=3``) or grey (``channels=1``),
    turned upright by its EXIF orientation, short side scaled to ``resolution``, centre cropped.
    An alpha channel is dropped (transparent pixels keep whatever colour they store).
    """
    from PIL import Image, ImageOps

    resolution, channels = _check_resolution(resolution), _check_channels(channels)
    extensions = ", ".join(IMAGE_EXTENSIONS)
    folder = _folder(path, f"image files ({extensions})")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise _error(path, f"no image files in {folder} or its subfolders; expected files ending in "
                           f"{extensions} (any case)")
    out = np.empty((len(files), channels, resolution, resolution), dtype=np.uint8)
    for i, file in enumerate(files):
        try:
            with Image.open(file) as image:
                image = ImageOps.exif_transpose(image).convert("RGB" if channels == 3 else "L")
        except Exception as e:  # Pillow raises OSError, SyntaxError, ValueError, ... for a bad file
            raise _error(path, f"{file} cannot be read as an image ({type(e).__name__}: {e}); expected a "
                               "valid PNG or JPEG file") from None
        pixels = np.asarray(_resize_square(image, resolution))
        out[i] = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
    return out
