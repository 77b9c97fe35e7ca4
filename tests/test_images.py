"""Image datasets (gan_cli.data.images): the readers on small files written here, their one-line
errors, the ImageData sampler, and gan-run on an MNIST folder end to end."""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_cli.data import images
from gan_cli.errors import GanRunError

IDX_IMAGES = "train-images-idx3-ubyte"


# --- writers for small files in the real formats ---------------------------------------------


def idx_bytes(pixels: np.ndarray, magic: int = images.IDX_IMAGES_MAGIC) -> bytes:
    """An IDX image file (http://yann.lecun.com/exdb/mnist/): big-endian magic, N, rows, cols, pixels."""
    n, rows, cols = pixels.shape
    return struct.pack(">4I", magic, n, rows, cols) + pixels.astype(np.uint8).tobytes()


def mnist_pixels(n: int = 20, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def write_mnist(folder: Path, pixels: np.ndarray, gz: bool = False, name: str = IDX_IMAGES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = idx_bytes(pixels)
    file = folder / (name + (".gz" if gz else ""))
    file.write_bytes(gzip.compress(data) if gz else data)
    return file


class Py2Pickler(pickle._Pickler):
    """Pickles str and bytes as Python 2's str (BINSTRING), as the official CIFAR-10 batches
    were written (cPickle, protocol 2), so the test reads that format, not only Python 3's."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        data = obj if isinstance(obj, bytes) else obj.encode("latin1")
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str


def py2_pickle(obj) -> bytes:
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    # numpy 1.x, which wrote the real files, lived in numpy.core
    return buf.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")


def cifar_batch(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {b"batch_label": b"training batch", b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": [int(v) for v in rng.integers(0, 10, n)], b"filenames": [b"x.png"] * n}


def write_cifar(folder: Path, per_batch: int = 2, test: bool = False) -> np.ndarray:
    """data_batch_1..5 (and test_batch) of ``per_batch`` images each; returns all the rows."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    names = [*images.CIFAR10_TRAIN, *([images.CIFAR10_TEST] if test else [])]
    for i, name in enumerate(names):
        batch = cifar_batch(per_batch, i)
        # the first batch as Python 2 wrote it, the others as Python 3 does (protocols 2..5)
        raw = py2_pickle(batch) if i == 0 else pickle.dumps(batch, protocol=2 + i % 4)
        (folder / name).write_bytes(raw)
        rows.append(batch[b"data"])
    return np.concatenate(rows)


def write_pictures(folder: Path) -> list[Path]:
    """A few PNG and JPEG files of different sizes and modes, one in a subfolder."""
    (folder / "sub").mkdir(parents=True)
    files = []
    for name, size, mode in [("a.png", (40, 30), "RGB"), ("b.JPG", (25, 50), "RGB"), ("sub/c.png", (16, 16), "RGBA"),
                             ("sub/d.jpeg", (64, 20), "L"), ("e.png", (12, 9), "P")]:
        pixels = np.random.default_rng(len(files)).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        image = Image.fromarray(pixels).convert(mode)
        image.save(folder / name)
        files.append(folder / name)
    (folder / "notes.txt").write_text("not an image")
    return files


def assert_one_line_naming(excinfo, *parts: str) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith("dataset.path=") or message.startswith("dataset.")
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    return message


# --- MNIST / IDX -----------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_plain_and_gz(tmp_path, gz):
    pixels = mnist_pixels()
    write_mnist(tmp_path, pixels, gz=gz)
    out = images.read_idx(tmp_path)
    assert out.shape == (20, 1, 28, 28) and out.dtype == np.uint8
    assert np.array_equal(out[:, 0], pixels)


def test_read_idx_test_split_and_torchvision_layout(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw, mnist_pixels(20, 0), gz=True)
    write_mnist(raw, mnist_pixels(10, 1), name="t10k-images-idx3-ubyte")
    assert images.read_idx(tmp_path).shape == (20, 1, 28, 28)
    both = images.read_idx(tmp_path, include_test=True)
    assert both.shape == (30, 1, 28, 28)
    assert np.array_equal(both[20:, 0], mnist_pixels(10, 1))


def test_mnist_samples_are_the_images_in_minus_one_to_one(tmp_path):
    write_mnist(tmp_path, mnist_pixels())
    data = images.mnist(str(tmp_path))
    assert (data.dim, data.image_shape, data.generator_offset, len(data)) == (784, (1, 28, 28), 0.0, 20)
    torch.manual_seed(3)
    x = data.sample(64)
    assert x.shape == (64, 784) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    torch.manual_seed(3)
    k = torch.randint(20, (64,))
    assert torch.equal(((x + 1) * 127.5).round().to(torch.uint8), data.images[k].reshape(64, -1))
    torch.manual_seed(3)
    assert torch.equal(data.sample(64), x)  # seeded torch → the same batch


@pytest.mark.parametrize("num_workers", [0, 2])
def test_training_batches_come_from_a_dataloader_in_shuffled_epochs(tmp_path, num_workers):
    write_mnist(tmp_path, mnist_pixels())
    data = images.mnist(str(tmp_path), num_workers=num_workers)

    def as_indices(batch):  # each test image is distinct: map a batch back to image numbers
        pixels = ((batch + 1) * 127.5).round().to(torch.uint8).reshape(len(batch), -1)
        flat = data.images.reshape(len(data), -1)
        return [int((flat == row).all(dim=1).nonzero()[0]) for row in pixels]

    torch.manual_seed(5)
    stream = data.batches(5, torch.device("cpu"))
    epochs = [sum((as_indices(next(stream)) for _ in range(4)), []) for _ in range(2)]
    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(20))  # every image once per epoch
    assert epochs[0] != epochs[1]  # reshuffled
    torch.manual_seed(5)
    again = data.batches(5, torch.device("cpu"))
    assert sum((as_indices(next(again)) for _ in range(4)), []) == epochs[0]  # `seed` fixes the order
    with pytest.raises(GanRunError, match="batch_size=21"):
        next(data.batches(21, torch.device("cpu")))


def test_a_stream_started_at_batch_k_goes_on_as_the_whole_stream_after_k_batches():
    """What lets a resumed run read on from its checkpoint: 20 images, batches of 6, so 18
    images (3 batches) per epoch; batch 4 is the second of epoch 1."""
    whole = iter(images.ShuffledEpochs(20, 6, seed=3))
    stream = [next(whole) for _ in range(6 * 7)]
    assert all(len(set(stream[e * 18:(e + 1) * 18])) == 18 for e in range(2))  # no image twice per epoch
    assert stream[:18] != stream[18:36]  # reshuffled
    later = iter(images.ShuffledEpochs(20, 6, seed=3, start_batch=4))
    assert [next(later) for _ in range(6 * 3)] == stream[24:42]


def test_mnist_resized_with_pillow(tmp_path):
    write_mnist(tmp_path, mnist_pixels())
    data = images.mnist(str(tmp_path), resolution=32)
    assert data.image_shape == (1, 32, 32) and data.dim == 1024


def test_idx_missing_folder(tmp_path):
    with pytest.raises(GanRunError) as e:
        images.read_idx(tmp_path / "nowhere")
    assert_one_line_naming(e, f"dataset.path={tmp_path / 'nowhere'}", "does not exist", IDX_IMAGES)


def test_idx_path_is_a_file(tmp_path):
    file = write_mnist(tmp_path, mnist_pixels())
    with pytest.raises(GanRunError) as e:
        images.read_idx(file)
    assert_one_line_naming(e, str(file), "is not a folder", IDX_IMAGES)


def test_idx_missing_file_lists_the_expected_names(tmp_path):
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(GanRunError) as e:
        images.read_idx(tmp_path)
    assert_one_line_naming(e, f"dataset.path={tmp_path}", IDX_IMAGES, IDX_IMAGES + ".gz")
    write_mnist(tmp_path, mnist_pixels())
    with pytest.raises(GanRunError) as e:  # the test split was asked for and is not there
        images.read_idx(tmp_path, include_test=True)
    assert_one_line_naming(e, "t10k-images-idx3-ubyte")


def test_idx_wrong_magic_says_found_and_expected(tmp_path):
    file = tmp_path / IDX_IMAGES
    file.write_bytes(idx_bytes(mnist_pixels(), magic=images.IDX_LABELS_MAGIC))
    with pytest.raises(GanRunError) as e:
        images.read_idx(tmp_path)
    assert_one_line_naming(e, str(file), "0x00000801", "label file", "expected 0x00000803")


@pytest.mark.parametrize("gz", [False, True])
def test_idx_truncated(tmp_path, gz):
    data = idx_bytes(mnist_pixels())[:-400]  # the header says 20 images; 19.5 are there
    file = tmp_path / (IDX_IMAGES + (".gz" if gz else ""))
    file.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(GanRunError) as e:
        images.read_idx(tmp_path)
    assert_one_line_naming(e, str(file), "truncated", "20×28×28", f"15680 pixel bytes, the file holds {15680 - 400}")


def test_idx_shorter_than_header_and_longer_than_header(tmp_path):
    (tmp_path / IDX_IMAGES).write_bytes(b"\x00\x00\x08")
    with pytest.raises(GanRunError) as e:
        images.read_idx(tmp_path)
    assert_one_line_naming(e, "truncated", "16-byte IDX header")
    (tmp_path / IDX_IMAGES).write_bytes(idx_bytes(mnist_pixels()) + b"extra")
    with pytest.raises(GanRunError) as e:
        images.read_idx(tmp_path)
    assert_one_line_naming(e, "5 bytes more")


@pytest.mark.parametrize("content", ["garbage", "cut"])
def test_idx_corrupt_gzip(tmp_path, content):
    compressed = gzip.compress(idx_bytes(mnist_pixels()))
    file = tmp_path / (IDX_IMAGES + ".gz")
    file.write_bytes(b"this is not gzip" * 10 if content == "garbage" else compressed[: len(compressed) // 2])
    with pytest.raises(GanRunError) as e:
        images.read_idx(tmp_path)
    assert_one_line_naming(e, str(file), "not a valid gzip file", "expected a gzip-compressed IDX file")


# --- CIFAR-10 --------------------------------------------------------------------------------


@pytest.mark.parametrize("subfolder", [False, True])
def test_read_cifar10(tmp_path, subfolder):
    rows = write_cifar(tmp_path / "cifar-10-batches-py" if subfolder else tmp_path)
    out = images.read_cifar10(tmp_path)
    assert out.shape == (10, 3, 32, 32) and out.dtype == np.uint8
    assert np.array_equal(out.reshape(10, -1), rows)
    # each row is 1024 red, 1024 green, 1024 blue values, each plane row-major
    assert np.array_equal(out[3, 1, 0, :], rows[3, 1024:1056])


def test_cifar10_test_batch_and_sampling(tmp_path):
    write_cifar(tmp_path, test=True)
    data = images.cifar10(str(tmp_path), include_test=True)
    assert (len(data), data.image_shape, data.dim) == (12, (3, 32, 32), 3072)
    x = data.sample(5)
    assert x.shape == (5, 3072) and -1 <= x.min() and x.max() <= 1
    assert images.cifar10(str(tmp_path), resolution=16).image_shape == (3, 16, 16)


def test_cifar10_missing_folder_and_files(tmp_path):
    with pytest.raises(GanRunError) as e:
        images.read_cifar10(tmp_path / "nowhere")
    assert_one_line_naming(e, "does not exist", "data_batch_1")
    write_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(GanRunError) as e:
        images.read_cifar10(tmp_path)
    assert_one_line_naming(e, f"dataset.path={tmp_path}", "data_batch_3 missing", "data_batch_5")


class RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_cifar10_pickle_with_a_forbidden_global_is_refused_unrun(tmp_path):
    write_cifar(tmp_path)
    marker = tmp_path / "code_ran"
    batch = cifar_batch(2, 0)
    batch[b"labels"] = RunsCode(marker)
    (tmp_path / "data_batch_2").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(GanRunError) as e:
        images.read_cifar10(tmp_path)
    assert_one_line_naming(e, str(tmp_path / "data_batch_2"), f"{os.system.__module__}.system", "refusing")
    assert not marker.exists()


@pytest.mark.parametrize("content", ["not a pickle", "truncated"])
def test_cifar10_not_a_pickle_or_truncated(tmp_path, content):
    write_cifar(tmp_path)
    file = tmp_path / "data_batch_4"
    file.write_bytes(b"random bytes, not a pickle" if content == "not a pickle" else file.read_bytes()[:3000])
    with pytest.raises(GanRunError) as e:
        images.read_cifar10(tmp_path)
    assert_one_line_naming(e, str(file), "not a readable pickle", 'b"data"')


@pytest.mark.parametrize("change, words", [
    ({b"data": None}, ["no b'data' key"]),
    ({b"data": np.zeros((2, 3000), np.uint8)}, ["shape (2, 3000)", "N×3072"]),
    ({b"data": np.zeros((2, 3072), np.float32)}, ["float32", "uint8"]),
    ({b"labels": [1, 2, 3]}, ["b\"labels\"", "2 integers in 0..9"]),
])
def test_cifar10_wrong_keys_or_shape(tmp_path, change, words):
    write_cifar(tmp_path)
    batch = cifar_batch(2, 0)
    for key, value in change.items():
        if value is None:
            del batch[key]
        else:
            batch[key] = value
    file = tmp_path / "data_batch_1"
    file.write_bytes(pickle.dumps(batch))
    with pytest.raises(GanRunError) as e:
        images.read_cifar10(tmp_path)
    assert_one_line_naming(e, str(file), *words)


def test_cifar10_pickle_of_a_list(tmp_path):
    write_cifar(tmp_path)
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(GanRunError) as e:
        images.read_cifar10(tmp_path)
    assert_one_line_naming(e, "holds a list, not a dict")


# --- a folder of PNG / JPEG files ------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3])
def test_read_image_folder(tmp_path, channels):
    write_pictures(tmp_path)
    out = images.read_image_folder(tmp_path, resolution=16, channels=channels)
    assert out.shape == (5, channels, 16, 16) and out.dtype == np.uint8
    assert np.array_equal(images.read_image_folder(tmp_path, 16, channels), out)  # sorted, deterministic
    data = images.image_folder(str(tmp_path), resolution=16, channels=channels)
    assert data.dim == channels * 256
    assert data.sample(7).shape == (7, channels * 256)


def test_image_folder_resizes_short_side_and_crops_the_centre(tmp_path):
    # 60×20: red | green | blue thirds; the centre 20×20 square is the green one
    pixels = np.zeros((20, 60, 3), np.uint8)
    pixels[:, :20, 0] = pixels[:, 20:40, 1] = pixels[:, 40:, 2] = 255
    Image.fromarray(pixels).save(tmp_path / "bands.png")
    out = images.read_image_folder(tmp_path, resolution=10, channels=3)
    assert out.shape == (1, 3, 10, 10)
    inner = out[0, :, :, 2:8].astype(int)  # away from the edges, where LANCZOS rings
    assert (inner[1] > 200).all() and (inner[0] < 50).all() and (inner[2] < 50).all()


def test_image_folder_errors(tmp_path):
    with pytest.raises(GanRunError) as e:
        images.read_image_folder(tmp_path / "nowhere", 32, 3)
    assert_one_line_naming(e, "does not exist")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(GanRunError) as e:
        images.read_image_folder(tmp_path / "notes.txt", 32, 3)
    assert_one_line_naming(e, "is not a folder")
    with pytest.raises(GanRunError) as e:
        images.read_image_folder(tmp_path, 32, 3)
    assert_one_line_naming(e, f"dataset.path={tmp_path}", "no image files", ".png, .jpg, .jpeg")


@pytest.mark.parametrize("content", ["garbage", "truncated"])
def test_image_folder_unreadable_image_is_named(tmp_path, content):
    write_pictures(tmp_path)
    bad = tmp_path / "sub" / "broken.png"
    if content == "garbage":
        bad.write_bytes(b"not a png at all")
    else:
        Image.fromarray(np.full((50, 50, 3), 128, np.uint8)).save(bad)
        bad.write_bytes(bad.read_bytes()[:60])
    with pytest.raises(GanRunError) as e:
        images.read_image_folder(tmp_path, 16, 3)
    assert_one_line_naming(e, str(bad), "cannot be read as an image", "PNG or JPEG")


@pytest.mark.parametrize("kwargs, key", [({"resolution": 0}, "dataset.resolution=0"),
                                         ({"channels": 2}, "dataset.channels=2"),
                                         ({"num_images": 0}, "dataset.num_images=0"),
                                         ({"seed": -1}, "dataset.seed=-1")])
def test_bad_values_name_the_key(kwargs, key):
    with pytest.raises(GanRunError) as e:
        images.shapes(**{"num_images": 4, **kwargs})
    assert_one_line_naming(e, key, "accepted")


# --- procedural shapes -----------------------------------------------------------------------


def test_make_shapes_deterministic_and_fast():
    start = time.perf_counter()
    many = images.make_shapes(10_000, 32, 3, seed=0)
    assert time.perf_counter() - start < 5
    assert many.shape == (10_000, 3, 32, 32) and many.dtype == np.uint8
    assert np.array_equal(images.make_shapes(10_000, 32, 3, seed=0), many)
    few = images.make_shapes(50, 32, 3, seed=1)
    assert not np.array_equal(few, many[:50])
    # a bright shape on a dark background in every image
    assert (few.max(axis=(1, 2, 3)) >= 64).all() and (few.min(axis=(1, 2, 3)) < 40).all()
    grey = images.make_shapes(50, 24, 1, seed=1)
    assert grey.shape == (50, 1, 24, 24)
    # the same geometry in grey: the shape covers the same pixels
    assert np.array_equal(grey[:, 0] > 45, images.make_shapes(50, 24, 3, seed=1).max(axis=1) >= 64)


def test_shapes_dataset_sampling_is_seeded_by_torch():
    data = images.shapes(num_images=100, resolution=16, channels=3, seed=0)
    assert (data.dim, data.image_shape) == (768, (3, 16, 16))
    torch.manual_seed(0)
    a = data.sample(32)
    torch.manual_seed(0)
    assert torch.equal(data.sample(32), a)
    assert not torch.equal(data.sample(32), a)


# --- gan-run end to end ----------------------------------------------------------------------


def test_gan_run_trains_on_mnist_files_and_names_a_truncated_one(gan_run, tmp_path):
    mnist = tmp_path / "mnist"
    write_mnist(mnist, mnist_pixels(), gz=True)
    # no label file beside the images: no classifier features (eval.features=auto would train the autoencoder)
    result = gan_run("dataset=mnist", f"dataset.path={mnist}", "trainer=smoke", "batch_size=16", "eval.features=none",
                     "hydra.run.dir=run_ok")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "run_ok" / "summary.json").read_text())["status"] == "completed"

    bad = tmp_path / "bad"
    file = bad / IDX_IMAGES
    bad.mkdir()
    file.write_bytes(idx_bytes(mnist_pixels())[:-1000])
    result = gan_run("dataset=mnist", f"dataset.path={bad}", "trainer=smoke", "hydra.run.dir=run_bad")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(file) in errors[0] and "truncated" in errors[0], result.stderr
    summary = json.loads((tmp_path / "run_bad" / "summary.json").read_text())
    assert summary["status"] == "failed" and str(file) in summary["error"]
