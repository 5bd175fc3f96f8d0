"""What crosses between the grader and the box: plain data, encoded so that decoding runs no code.

A value is written as one message: ``CVW1``, the length of a JSON header (4 bytes), the header
(the structure, and for each array its dtype, shape and place), then the arrays' raw bytes. The
decoder parses JSON and copies bytes into arrays of numeric dtypes, so it runs no code. What can
cross:

- ``None``, ``bool``, ``int``, ``float`` (``nan`` and infinities included), ``str``, ``bytes``;
- numpy arrays and scalars of numeric or boolean dtype, torch tensors (as arrays, with their
  dtype and ``requires_grad``) and ``torch.Generator`` (its state);
- tuples (named tuples keep their type name and fields), lists and dicts of those;
- :class:`Handle`: an object that stays on the side that made it (a function, a network), named by
  a number; :class:`Callback`: a function of the grader's that the box may call back;
- an exception, as :class:`RemoteError` (its type's name, its message and the student's
  traceback as text).

Nothing else: a value that is not plain data is the sender's to keep as a handle. The decoder
refuses messages over :data:`MAX_BYTES`, dtypes other than numbers and booleans (so no object
array), arrays whose bytes are not where and what the header says, and structures deeper than
:data:`MAX_DEPTH`, so a hostile box can send wrong answers, never code or a bomb.

This module is also the box's copy of the codec: :mod:`cvlib.grading.box_server` executes its
source in the boxed kernel, where ``cvlib.grading`` itself is out of reach. It imports only the
standard library and numpy (torch when a tensor crosses).
"""

import base64
import json
import re
import struct
import sys

import numpy as np

MAX_BYTES = 512 * 2**20  # one message, arrays included
MAX_DEPTH = 64
_NUMERIC = "biufc"  # numpy dtype kinds that may cross: bool, int, uint, float, complex
_MAGIC = b"CVW1"
_DTYPE = re.compile(r"[<>|=][biufc][0-9]{1,2}")  # e.g. '<f8', '|b1'


class WireError(ValueError):
    """A message that is not well-formed plain data."""


class Handle:
    """An object that stays where it was made, named by ``ident`` (``kind``: its type's name)."""

    def __init__(self, ident, kind="object", callable_=False, name=""):
        self.ident, self.kind, self.callable, self.name = (
            int(ident),
            str(kind),
            bool(callable_),
            name,
        )

    def __repr__(self):
        return f"<{self.kind} {self.name or self.ident} in the box>"


class Callback:
    """A function of the grader's that the box may call during one request."""

    def __init__(self, ident, name=""):
        self.ident, self.name = int(ident), str(name)


class RemoteError(Exception):
    """An exception raised on the other side: ``kind`` is its type's name, ``text`` the
    traceback as text (what the student's code was doing)."""

    def __init__(self, kind, message, text=""):
        super().__init__(message)
        self.kind, self.message, self.text = str(kind), str(message), str(text)


def _torch():
    return sys.modules.get("torch")


class _Encoder:
    def __init__(self, keep):
        self.arrays, self.keep = {}, keep

    def array(self, value):
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.asarray(value, order="C")  # 0-d stays 0-d
        return key

    def encode(self, value, depth=0):
        if depth > MAX_DEPTH:
            raise WireError("the value is nested too deeply to cross")
        torch = _torch()
        if isinstance(value, np.generic) and np.asarray(value).dtype.kind in _NUMERIC:
            return {"t": "np", "a": self.array(np.asarray(value))}  # before float: np.float64
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return {"t": "int", "v": str(int(value))}  # JSON numbers lose big ints
        if isinstance(value, float):
            return {"t": "float", "v": repr(float(value))}
        if isinstance(value, bytes):
            return {"t": "bytes", "a": self.array(np.frombuffer(value, dtype=np.uint8))}
        if isinstance(value, np.ndarray) and value.dtype.kind in _NUMERIC:
            return {"t": "nd", "a": self.array(value)}
        if torch is not None and isinstance(value, torch.Tensor):
            return self.tensor(value, torch)
        if torch is not None and isinstance(value, torch.Generator):
            return {"t": "gen", "a": self.array(value.get_state().numpy())}
        if isinstance(value, (Handle, Callback)):
            kind = "handle" if isinstance(value, Handle) else "callback"
            return {
                "t": kind,
                "id": value.ident,
                "kind": getattr(value, "kind", ""),
                "call": getattr(value, "callable", True),
                "name": value.name,
            }
        if isinstance(value, BaseException):
            return self.error(value)
        if isinstance(value, tuple):
            items = [self.encode(v, depth + 1) for v in value]
            fields = getattr(type(value), "_fields", None)
            if fields is not None:
                return {"t": "named", "name": type(value).__name__, "f": list(fields), "v": items}
            return {"t": "tuple", "v": items}
        if isinstance(value, list):
            return {"t": "list", "v": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, dict):
            pairs = [
                [self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()
            ]
            return {"t": "dict", "v": pairs}
        if self.keep is not None:  # not data: it stays here, the other side gets a handle
            return self.encode(self.keep(value), depth)
        raise WireError(f"a {type(value).__name__} cannot cross: only plain data can")

    def tensor(self, value, torch):
        grad = bool(value.requires_grad)
        value = value.detach()
        if value.is_sparse or value.layout != torch.strided:
            value = value.to_dense()
        dtype = str(value.dtype).replace("torch.", "")
        if value.dtype == torch.bfloat16:
            value = value.float()
        return {
            "t": "tensor",
            "a": self.array(value.cpu().numpy()),
            "dtype": dtype,
            "grad": grad,
        }

    def error(self, error):
        import traceback

        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        kind = getattr(error, "kind", type(error).__name__)
        return {"t": "error", "kind": str(kind), "msg": _safe_str(error), "tb": text[-20000:]}


def _safe_str(error):
    try:
        return str(error)[:20000]
    except Exception:  # a student's exception whose __str__ fails
        return f"<{type(error).__name__}>"


def dumps(value, keep=None):
    """``value`` as bytes. ``keep(obj)`` turns what is not data into a :class:`Handle` (the box's
    side); without it such a value raises :class:`WireError`."""
    encoder = _Encoder(keep)
    meta = encoder.encode(value)
    places, chunks, offset = {}, [], 0
    for key, array in encoder.arrays.items():
        data = array.tobytes()
        places[key] = [array.dtype.str, list(array.shape), offset, len(data)]
        chunks.append(data)
        offset += len(data)
    header = json.dumps({"meta": meta, "arrays": places}).encode()
    return b"".join([_MAGIC, struct.pack("<I", len(header)), header, *chunks])


def loads(data, handles=None, callbacks=None, named=None):
    """The value ``dumps`` wrote. ``handles(Handle)`` and ``callbacks(Callback)`` map the
    references to what the receiving side makes of them (default: the references themselves);
    ``named`` maps names to named-tuple classes of the receiver's: a named tuple of that name
    and the same fields comes back as that class (else as a fresh class of the same shape)."""
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_BYTES:
        raise WireError("a message must be bytes, at most 512 MB")
    data = bytes(data)
    if len(data) < 8 or data[:4] != _MAGIC:
        raise WireError("not a message: it does not start as one")
    (size,) = struct.unpack("<I", data[4:8])
    body = 8 + size
    try:
        header = json.loads(data[8:body].decode())
        meta, places = header["meta"], header["arrays"]
        arrays = {key: _array(data, body, place) for key, place in places.items()}
    except WireError:
        raise
    except Exception as error:  # anything malformed is the sender's fault, reported as such
        raise WireError(f"not a message: {type(error).__name__}: {error}") from None
    return _Decoder(arrays, handles, callbacks, named or {}).decode(meta, 0)


def _array(data, body, place):
    """The array the header's ``place`` ([dtype, shape, offset, size]) describes, as a copy."""
    dtype, shape, offset, size = place
    if not (isinstance(dtype, str) and _DTYPE.fullmatch(dtype)):
        raise WireError(f"an array of dtype {str(dtype)[:20]!r} may not cross")
    dtype = np.dtype(dtype)
    if dtype.kind not in _NUMERIC:
        raise WireError(f"an array of dtype {dtype} may not cross")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise WireError("an array's shape must be counts")
    count = 1
    for n in shape:
        count *= n
    if not isinstance(offset, int) or not isinstance(size, int) or offset < 0:
        raise WireError("an array's place must be counts")
    if count * dtype.itemsize != size or body + offset + size > len(data):
        raise WireError("an array's bytes are not what its header says")
    return np.frombuffer(data, dtype, count, body + offset).reshape(shape).copy()


class _Decoder:
    def __init__(self, arrays, handles, callbacks, named):
        self.arrays, self.handles, self.callbacks, self.named = arrays, handles, callbacks, named

    def array(self, key):
        value = self.arrays.get(key) if isinstance(key, str) else None
        if value is None or value.dtype.kind not in _NUMERIC:
            raise WireError("a message names an array it does not hold")
        return value

    def decode(self, meta, depth):
        if depth > MAX_DEPTH:
            raise WireError("a message nested too deeply")
        if meta is None or isinstance(meta, (bool, str)):
            return meta
        if not isinstance(meta, dict) or not isinstance(meta.get("t"), str):
            raise WireError("a malformed message")
        kind = meta["t"]
        if kind == "int":
            return int(_text(meta["v"], 5000))
        if kind == "float":
            return float(_text(meta["v"], 64))
        if kind == "bytes":
            return self.array(meta["a"]).astype(np.uint8).tobytes()
        if kind == "nd":
            return self.array(meta["a"])
        if kind == "np":
            return self.array(meta["a"])[()]
        if kind == "tensor":
            return self.tensor(meta)
        if kind == "gen":
            return self.generator(meta)
        if kind in ("tuple", "list", "named"):
            items = [self.decode(v, depth + 1) for v in _list(meta["v"])]
            if kind == "named":
                return _named(meta, items, self.named)
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            return {
                _hashable(self.decode(k, depth + 1)): self.decode(v, depth + 1)
                for k, v in (_pair(p) for p in _list(meta["v"]))
            }
        if kind == "handle":
            ref = Handle(
                meta["id"],
                _text(meta.get("kind", ""), 200),
                meta.get("call") is True,
                _text(meta.get("name", ""), 200),
            )
            return self.handles(ref) if self.handles else ref
        if kind == "callback":
            ref = Callback(meta["id"], _text(meta.get("name", ""), 200))
            return self.callbacks(ref) if self.callbacks else ref
        if kind == "error":
            return RemoteError(
                _text(meta["kind"], 200),
                _text(meta["msg"], 20000),
                _text(meta.get("tb", ""), 20000),
            )
        raise WireError(f"a message holds an unknown kind of value {kind!r}")

    def tensor(self, meta):
        import torch

        dtype = getattr(torch, _text(meta["dtype"], 40), None)
        if not isinstance(dtype, torch.dtype):
            raise WireError("a tensor of an unknown dtype")
        value = torch.from_numpy(np.array(self.array(meta["a"]))).to(dtype)
        return value.requires_grad_(True) if meta.get("grad") is True else value

    def generator(self, meta):
        import torch

        state = torch.from_numpy(np.array(self.array(meta["a"]), dtype=np.uint8))
        generator = torch.Generator()
        try:
            generator.set_state(state)
        except RuntimeError as error:
            raise WireError(f"a generator's state is not valid: {error}") from None
        return generator


def _text(value, limit):
    if not isinstance(value, str) or len(value) > limit:
        raise WireError("a malformed message")
    return value


def _list(value):
    if not isinstance(value, list):
        raise WireError("a malformed message")
    return value


def _pair(value):
    if not isinstance(value, list) or len(value) != 2:
        raise WireError("a malformed message")
    return value


def _hashable(key):
    if isinstance(key, (str, int, float, bool, type(None), tuple)):
        return key
    raise WireError("a dict key must be a number, a string or a tuple")


def _named(meta, items, known):
    """A named tuple: the receiver's own class of that name and fields, else a fresh class of
    the same shape (no code of the sender's either way)."""
    import collections

    name, fields = _text(meta["name"], 100), _list(meta["f"])
    if not name.isidentifier() or len(fields) != len(items):
        raise WireError("a malformed named tuple")
    if not all(isinstance(f, str) and f.isidentifier() and not f.startswith("_") for f in fields):
        raise WireError("a malformed named tuple")
    cls = known.get(name)
    if cls is not None and list(getattr(cls, "_fields", ())) == fields:
        return cls(*items)
    return collections.namedtuple(name, fields)(*items)


def to_text(data):
    """Bytes as base64 text (what travels inside the kernel's messages)."""
    return base64.b64encode(data).decode("ascii")


def from_text(text, limit=MAX_BYTES * 4 // 3 + 4):
    """The bytes of :func:`to_text`, refusing anything that is not base64 text."""
    if not isinstance(text, str) or len(text) > limit:
        raise WireError("a reply must be base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as error:
        raise WireError(f"a reply must be base64 text: {error}") from None
