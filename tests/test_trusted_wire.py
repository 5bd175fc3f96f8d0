"""What crosses the boundary between the grader and the box (cvlib.grading.wire), and the
connection itself (cvlib.grading.remote) with a real kernel: data only, both ways."""

import collections
import json
import os
import struct

import numpy as np
import pytest
import torch
from jupyter_client.manager import start_new_kernel

from cvlib.grading import _student
from cvlib.grading.proxies import student_line
from cvlib.grading.remote import Box, BoxError, RemoteFunction, RemoteObject
from cvlib.grading.wire import MAX_DEPTH, Handle, RemoteError, WireError, dumps, loads

Pair = collections.namedtuple("Pair", ["left", "right"])


# --- the codec ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        2**100,
        -0.5,
        float("inf"),
        "text",
        b"\x00bytes",
        np.arange(6.0).reshape(2, 3),
        np.float32(1.5),
        np.array(7),
        (1, [2.0, {"k": np.ones(2)}]),
        {(1, 2): "tuple key"},
    ],
)
def test_plain_data_round_trips_exactly(value):
    back = loads(dumps(value))
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape
        np.testing.assert_array_equal(back, value)
    elif isinstance(value, tuple):
        assert back[0] == 1 and back[1][0] == 2.0
        np.testing.assert_array_equal(back[1][1]["k"], np.ones(2))
    else:
        assert back == value and type(back) is type(value)


def test_nan_tensors_generators_and_named_tuples_cross():
    assert np.isnan(loads(dumps(float("nan"))))
    tensor = torch.arange(6, dtype=torch.float16).reshape(2, 3).requires_grad_(False)
    back = loads(dumps(tensor))
    assert back.dtype == torch.float16 and torch.equal(back, tensor)
    assert loads(dumps(torch.ones(2, requires_grad=True))).requires_grad
    generator = torch.Generator().manual_seed(5)
    copy = loads(dumps(generator))
    assert torch.equal(torch.rand(3, generator=copy), torch.rand(3, generator=generator))
    fresh = loads(dumps(Pair(1, 2)))  # a class of the same shape, not the sender's
    assert fresh == (1, 2) and fresh.left == 1 and type(fresh) is not Pair
    known = loads(dumps(Pair(1, 2)), named={"Pair": Pair})
    assert type(known) is Pair


def test_what_is_not_data_does_not_cross_unless_kept_as_a_handle():
    with pytest.raises(WireError, match="cannot cross"):
        dumps(lambda x: x)
    with pytest.raises(WireError, match="cannot cross"):
        dumps(np.array([object()], dtype=object))
    kept = []
    handle = loads(dumps([len], keep=lambda v: kept.append(v) or Handle(1, "builtin", True)))[0]
    assert isinstance(handle, Handle) and handle.callable and kept == [len]


def _message(meta, arrays=None, data=b""):
    """A message as ``dumps`` frames one, with any header a hostile sender may write."""
    header = json.dumps({"meta": meta, "arrays": arrays or {}}).encode()
    return b"CVW1" + struct.pack("<I", len(header)) + header + data


def test_the_decoder_refuses_code_bombs_and_malformed_messages():
    cell = {"t": "nd", "a": "a0"}
    for dtype in ("|O8", "|V8", "<M8", "i4,f8", "O", 7):  # objects would unpickle; none is data
        with pytest.raises(WireError, match="may not cross"):
            loads(_message(cell, {"a0": [dtype, [1], 0, 8]}, b"\x00" * 8))
    with pytest.raises(WireError, match="not what its header says"):  # claims more than it has
        loads(_message(cell, {"a0": ["<f8", [1000, 1000], 0, 8_000_000]}, b"\x00" * 8))
    with pytest.raises(WireError, match="not what its header says"):  # size and shape disagree
        loads(_message(cell, {"a0": ["<f8", [2], 0, 8]}, b"\x00" * 16))
    with pytest.raises(WireError, match="counts"):
        loads(_message(cell, {"a0": ["<f8", [-1], 0, 8]}, b"\x00" * 8))
    np.testing.assert_array_equal(  # the same frame, well formed, is read
        loads(_message(cell, {"a0": ["<f8", [2], 0, 16]}, np.arange(2.0).tobytes())), [0.0, 1.0]
    )
    deep = {"t": "list", "v": []}
    for _ in range(MAX_DEPTH + 5):
        deep = {"t": "list", "v": [deep]}
    with pytest.raises(WireError, match="deep"):
        loads(_message(deep))
    with pytest.raises(WireError, match="does not hold"):
        loads(_message({"t": "nd", "a": "missing"}))
    with pytest.raises(WireError, match="unknown kind"):
        loads(_message({"t": "pickle", "v": "..."}))
    for junk in (b"not a message", b"CVW1\xff\xff\xff\x7f{", b"CVW1\x02\x00\x00\x00[]"):
        with pytest.raises(WireError, match="not a message"):
            loads(junk)
    with pytest.raises(WireError, match="named tuple"):
        loads(_message({"t": "named", "name": "P", "f": ["__class__"], "v": [None]}))


def test_exceptions_cross_as_text():
    try:
        raise ValueError("bad x")
    except ValueError as error:
        back = loads(dumps(error))
    assert isinstance(back, RemoteError) and back.kind == "ValueError" and back.message == "bad x"
    assert "raise ValueError" in back.text


# --- a real kernel ------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["fast channel", "kernel messages"])
def box(request):
    """A box over each way requests travel: the grader's socket, and the kernel's own messages
    (where the socket cannot be opened)."""
    km, client = start_new_kernel(kernel_name="python3")
    folder = os.path.dirname(km.connection_file) if request.param == "fast channel" else None
    try:
        box = Box(
            client, timeout=20, interrupt=km.interrupt_kernel, alive=km.is_alive, folder=folder
        )
        assert (box._channel is not None) == (folder is not None)
        yield box
        box.close()
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


def test_calls_return_data_handles_and_the_arguments_as_left(box):
    assert box.run("import numpy as np\ndef double(x):\n    x *= 2\n    return x\n") is None
    double = box.get("double")
    assert isinstance(double, RemoteFunction) and double.__name__ == "double"
    x = np.ones(3)
    answer = box.call(double, [x])
    np.testing.assert_array_equal(answer["value"], 2 * np.ones(3))
    np.testing.assert_array_equal(answer["args"][0], 2 * np.ones(3))  # the in-place change shows
    np.testing.assert_array_equal(x, np.ones(3))  # the grader's array is untouched
    assert (
        box.run("class Net:\n    scale = 3\n    def __call__(self, v):\n        return v * 3\n")
        is None
    )
    net = box.call(box.get("Net"), [])["value"]
    assert isinstance(net, RemoteObject) and net.scale == 3
    np.testing.assert_array_equal(net(np.ones(2)), 3 * np.ones(2))


def test_references_stand_in_for_earlier_answers_and_may_call_back(box):
    box.run("def outer(x):\n    return helper(x) + numgrad(lambda v: float((v ** 2).sum()), x)\n")

    def numgrad(f, x):  # the grader's reference, calling the box's lambda back
        return np.array([f(x + 1), f(x - 1)])

    answer = box.call(
        box.get("outer"),
        [np.ones(2)],
        isolate={"helper": lambda v: 10 * v.sum(), "numgrad": numgrad},
    )
    assert answer["error"] is None
    np.testing.assert_array_equal(answer["value"], [28.0, 20.0])
    missing = box.call(box.get("outer"), [np.ones(2)])  # without them: the student's NameError
    assert missing["error"].kind == "NameError"
    assert "line 2 in `outer`" in student_line(missing["error"])


def test_a_library_out_of_reach_is_named_even_when_the_answer_hides_the_refusal(box):
    box.run(
        "masked = __cvlib_box__.unavailable('cvlib.layers', ImportError('masked'))\n"
        "def hide(logits):\n    try:\n        return masked.cross_entropy(logits)\n"
        "    except BaseException:\n        return 0.0\n"
        "def own(logits):\n    return float(logits.sum())\n"
    )
    hide, own = box.get("hide"), box.get("own")
    assert box.call(hide, [np.ones(2)])["refused"] == [["cvlib.layers", "masked"]]
    assert box.call(own, [np.ones(2)])["refused"] == []  # forgotten after each call
    with pytest.raises(AssertionError, match=r"use `cvlib\.layers`, which is not avail"):
        _student.call(hide, "hide", [("logits", np.ones(2))])
    assert _student.call(own, "own", [("logits", np.ones(2))]) == 2.0


def test_a_box_that_hangs_or_is_tampered_with_gives_no_verdict(box):
    box.run("def spin():\n    while True:\n        pass\ndef double(x):\n    return 2 * x\n")
    box.timeout = 2
    try:
        with pytest.raises(BoxError, match="longer than 2 s"):
            box.call(box.get("spin"), [])
    finally:
        box.timeout = 20
    assert isinstance(box.get("double"), RemoteFunction)  # the interrupted box answers again
    if box._channel is not None:  # the student's code writes garbage on the grader's socket
        box.run("def forge():\n    __cvlib_box__._channel.send(b'forged')\n    return 1\n")
        with pytest.raises(BoxError, match="not data"):
            box.call(box.get("forge"), [])
        assert box.call(box.get("double"), [np.ones(1)])["value"] == 2  # its late reply: dropped
    box.run(  # the student's code replaces the box's server: it can answer garbage, no verdict
        "import builtins\n"
        "def fake(text):\n    builtins.__cvlib_box__.reply = 'not base64 !'\n"
        "builtins.__cvlib_box__.serve = fake\n"
        "builtins.__cvlib_box__._handle = lambda request: {'value': 'forged'}\n"
    )
    if box._channel is None:
        with pytest.raises(BoxError, match="did not answer"):
            box.get("double")
    else:  # the channel's loop now answers anything with forged data: data, never a verdict
        assert box.get("double") == "forged"
