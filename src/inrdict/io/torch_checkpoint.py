"""Read PyTorch `.pt` / `.pth` files without PyTorch and without running their pickle.

`torch.save` writes either a zip archive (PyTorch ≥ 1.6: ``<root>/data.pkl``, the tensors' bytes in
``<root>/data/<key>``, ``<root>/byteorder``) or the legacy stream (a magic number, three small pickles, the main
pickle, the storage keys, then each storage as an int64 element count and its bytes). Either way the main pickle
rebuilds tensors by naming functions of `torch._utils` and storage classes of `torch`, and persistent ids point at
the storages. An unpickler that imports what a file names runs whatever the file asks for, so a checkpoint from a
stranger could take over the machine.

`load_torch_checkpoint` uses an unpickler that knows a closed list of names — `torch._utils._rebuild_tensor_v2`,
`_rebuild_parameter` (and its `_with_state` form), the typed storages, `collections.OrderedDict`, `torch.Size` — and
rebuilds each tensor as a NumPy array from the storage bytes (offset, shape and strides as PyTorch records them;
bfloat16 widened to float32). Any other global, and any other persistent id, is refused before anything is called.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from inrdict.errors import InrdictError

_STORAGES: dict[str, npt.DTypeLike] = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "BFloat16Storage": "bfloat16",
    "ComplexFloatStorage": np.complex64, "ComplexDoubleStorage": np.complex128, "LongStorage": np.int64,
    "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}  # fmt: skip
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _StorageType:
    """Stands for a `torch.<X>Storage` class in the pickle: only its dtype is used."""

    def __init__(self, name: str):
        self.name, self.dtype = name, _STORAGES[name]

    @property
    def itemsize(self) -> int:
        return 2 if self.dtype == "bfloat16" else np.dtype(self.dtype).itemsize

    def decode(self, raw: bytes, little: bool) -> np.ndarray:
        if self.dtype == "bfloat16":  # the top half of a float32
            halves = np.frombuffer(raw, "<u2" if little else ">u2").astype(np.uint32)
            return (halves << 16).view(np.float32)
        dtype = np.dtype(self.dtype).newbyteorder("<" if little else ">")
        return np.frombuffer(raw, dtype).astype(np.dtype(self.dtype).newbyteorder("="))


def _rebuild_tensor(storage, offset, size, stride, *_):
    """`torch._utils._rebuild_tensor_v2`: the view (offset, size, stride) of a storage, as a NumPy copy."""
    if not isinstance(storage, np.ndarray):
        raise pickle.UnpicklingError("a tensor's storage is not a storage")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or any(s < 0 for s in (*size, *stride)) or int(offset) < 0:
        raise pickle.UnpicklingError(f"bad tensor geometry: size {size}, stride {stride}, offset {offset}")
    if int(np.prod(size)) and int(offset) + sum((n - 1) * s for n, s in zip(size, stride)) >= storage.size:
        raise pickle.UnpicklingError(f"tensor of size {size} reaches past its storage of {storage.size} elements")
    base = storage[int(offset) :]
    view = np.lib.stride_tricks.as_strided(base, size, tuple(s * storage.itemsize for s in stride), writeable=False)
    return np.array(view)


def _rebuild_parameter(data, *_):
    """`torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)`: the data."""
    return data


def _size(*args):
    return tuple(*args)


class _TorchUnpickler(pickle.Unpickler):
    def __init__(self, file, path: Path, read_storage):
        super().__init__(file)
        self.path, self.read_storage = path, read_storage
        self.allowed = {
            ("collections", "OrderedDict"): collections.OrderedDict,
            ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
            ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
            ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
            ("torch", "Size"): _size,
            **{("torch", name): _StorageType(name) for name in _STORAGES},
        }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.allowed:
            refuse(self.path, f"asks for {ascii(f'{module}.{name}')[1:-1][:200]}")
        return self.allowed[(module, name)]

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            refuse(self.path, "uses a persistent id that is not a tensor storage")
        _, storage_type, key, _location, numel = pid[:5]
        return self.read_storage(storage_type, str(key), int(numel))


def refuse(path: Path, what: str):
    raise InrdictError(f"refusing to load {path}: its pickle {what}; only tensors, containers and plain values are "
                       "read (save a state_dict, not a whole module)")  # fmt: skip


def _load_zip(path: Path, archive: zipfile.ZipFile):
    names = archive.namelist()
    pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
    if len(pickles) != 1:
        raise InrdictError(f"cannot load {path}: a PyTorch zip checkpoint holds one data.pkl, this one {len(pickles)}")
    root = pickles[0][: -len("data.pkl")]
    byteorder = archive.read(root + "byteorder").decode().strip() if root + "byteorder" in names else "little"
    little = byteorder == "little"
    cache: dict[str, np.ndarray] = {}

    def read_storage(storage_type: _StorageType, key: str, numel: int) -> np.ndarray:
        if key not in cache:
            name = f"{root}data/{key}"
            if name not in names:
                raise InrdictError(f"cannot load {path}: storage {key!r} is missing from the archive")
            raw = archive.read(name)
            if len(raw) < numel * storage_type.itemsize:
                raise InrdictError(f"cannot load {path}: storage {key!r} is truncated")
            cache[key] = storage_type.decode(raw[: numel * storage_type.itemsize], little)
        return cache[key]

    return _TorchUnpickler(io.BytesIO(archive.read(pickles[0])), path, read_storage).load()


def _load_legacy(path: Path, file):
    plain = lambda: _TorchUnpickler(file, path, lambda *_: refuse(path, "names a storage too early")).load()  # noqa: E731
    if plain() != _LEGACY_MAGIC:
        raise InrdictError(
            f"cannot load {path}: not a PyTorch checkpoint (neither a zip archive nor the legacy format)"
        )
    plain()  # protocol version
    plain()  # sys info
    wanted: dict[str, tuple[_StorageType, int]] = {}
    placeholders: dict[str, np.ndarray] = {}

    def note_storage(storage_type: _StorageType, key: str, numel: int) -> np.ndarray:
        wanted[key] = (storage_type, numel)  # bytes come after the pickle: fill a buffer now, the data later
        placeholders.setdefault(
            key, np.zeros(numel, np.float32 if storage_type.dtype == "bfloat16" else storage_type.dtype)
        )
        return placeholders[key]

    result = _TorchUnpickler(file, path, note_storage).load()
    keys = plain()
    for key in keys:
        storage_type, numel = wanted[str(key)]
        (count,) = struct.unpack("<q", file.read(8))
        raw = file.read(count * storage_type.itemsize)
        if count != numel or len(raw) != count * storage_type.itemsize:
            raise InrdictError(f"cannot load {path}: storage {key!r} is truncated")
        placeholders[str(key)][:] = storage_type.decode(raw, True)
    return result, placeholders


def load_torch_checkpoint(path: str | os.PathLike) -> object:
    """What `torch.load(path)` would return for a checkpoint of tensors (state dicts, nested dicts and lists of
    them, numbers, strings), with every tensor a NumPy array — read without PyTorch and without executing any of
    the file's pickle beyond the allowed tensor-rebuilding names (module docstring).

    Raises:
        InrdictError: a missing or unreadable file, one that is not a PyTorch checkpoint, or a pickle that asks for
            anything else (a whole pickled module, arbitrary code): refused before it runs.
    """
    path = Path(path)
    if not path.is_file():
        raise InrdictError(f"no such checkpoint file: {path}")
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return _load_zip(path, archive)
        with path.open("rb") as file:
            result, _ = _load_legacy_with_views(path, file)
            return result
    except InrdictError:
        raise
    except OSError as error:
        raise InrdictError(f"cannot read {path}: {error.strerror or error}") from None
    except Exception as error:  # a corrupt or truncated file can fail in many ways
        reason = f"{type(error).__name__}: {error}".replace("\n", " ")[:300]
        raise InrdictError(f"cannot load {path}: corrupt or unsupported PyTorch checkpoint ({reason})") from None


def _load_legacy_with_views(path: Path, file):
    """The legacy format rebuilds tensors before their bytes are read: views are taken of storages filled later,
    so `_rebuild_tensor` must not copy there. Read it twice: once to learn the storages, once to rebuild."""
    start = file.tell()
    _, storages = _load_legacy(path, file)
    file.seek(start)
    for _ in range(3):
        _TorchUnpickler(file, path, lambda *_: None).load()
    result = _TorchUnpickler(file, path, lambda storage_type, key, numel: storages[key]).load()
    return result, storages


def state_dict_of(checkpoint, path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The flat {name: array} state dict inside a loaded checkpoint: the checkpoint itself, or the one dict of
    arrays found under a key such as "state_dict", "model_state_dict", "model" or "net"."""

    def is_state(obj) -> bool:
        return isinstance(obj, dict) and bool(obj) and all(isinstance(k, str) and isinstance(v, np.ndarray)
                                                           for k, v in obj.items())  # fmt: skip

    if is_state(checkpoint):
        return dict(checkpoint)
    if isinstance(checkpoint, dict):
        found = [(k, v) for k, v in checkpoint.items() if is_state(v)]
        if len(found) == 1:
            return dict(found[0][1])
        names = ", ".join(repr(k) for k, _ in found)
        raise InrdictError(
            f"{path} holds {len(found)} state dicts ({names or 'none'}): save the model's state_dict alone"
        )
    raise InrdictError(f"{path} holds a {type(checkpoint).__name__}, not a state dict of tensors")
