"""The grader's end of a trusted check: the student's functions, called across a process boundary.

A :class:`Box` is a connection to one kernel that holds the student's code (a boxed kernel of
:mod:`cvlib.tools.grading.sandbox`, or any Jupyter kernel). :meth:`Box.get` looks a name up in the
student's notebook and returns plain data, or a proxy: :class:`RemoteFunction` for something
callable, :class:`RemoteObject` otherwise. Calling a proxy sends the arguments (plain data,
:mod:`cvlib.grading.wire`) into the box, runs the student's code there and brings back the
result as data; a result that is not data (a network) stays in the box behind another proxy.

The checks of :mod:`cvlib.grading` take such proxies where they took functions:
:func:`cvlib.grading._student.call` sees a proxy and calls it through :meth:`Box.call`, which
also swaps the student's earlier answers for the grader's references during the call (the box
asks for them: :class:`~cvlib.grading.wire.Callback`) and returns the arguments as the call
left them, so in-place changes are caught. The references, the hidden inputs, the comparison and
the verdict stay here, in the grader's process, which the student's code cannot reach.
"""

import os
import re
import secrets
import time

import zmq

from .proxies import RemoteFunction, RemoteObject, as_exception, is_data, is_network, is_remote
from .wire import Callback, Handle, RemoteError, WireError, dumps, from_text, loads, to_text

__all__ = ["Box", "BoxError", "RemoteFunction", "RemoteObject", "is_remote", "source"]

_REPLY = re.compile(r"'([A-Za-z0-9+/=]*)'")


class BoxError(RuntimeError):
    """The box did not answer as asked (it died, ran out of time, or its server was tampered
    with). The student's answer cannot be graded from it."""


def source():
    """The Python source that installs ``__cvlib_box__`` (the box's server) in a kernel."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "wire.py")) as handle:
        wire = handle.read()
    with open(os.path.join(here, "box_server.py")) as handle:
        server = "".join(line for line in handle if "# box: wire" not in line)
    return (
        "import builtins as _b, types as _t\n"
        "_m = _t.ModuleType('__cvlib_box__')\n"
        f"exec(compile({wire + server!r}, '<cvlib box server>', 'exec'), _m.__dict__)\n"
        "_b.__cvlib_box__ = _m\n"
        "del _b, _t, _m\n"
    )


class Box:
    """The grader's connection to one kernel; ``client`` is a started blocking kernel client.

    ``timeout`` bounds each request (seconds); ``interrupt`` (optional) is called when one runs
    out of time; ``alive`` (optional) tells whether the kernel still runs. ``folder`` (optional)
    is a folder both sides reach (the kernel's connection folder): there the grader opens a
    socket of its own, the fast channel, before any student code has run in the kernel; without
    it (or if the channel fails to start) every request goes through the kernel's messages.
    """

    def __init__(
        self, client, timeout=120, interrupt=None, alive=None, label="the box", folder=None
    ):
        self.client, self.timeout, self.label = client, timeout, label
        self.interrupt, self.alive = interrupt, alive
        self._callbacks, self._depth, self._deadline, self._named = {}, 0, 0.0, {}
        self._next_callback = self._seq = 0
        self._channel = self._listening = None
        self._poller = zmq.Poller()
        self._poller.register(client.shell_channel.socket, zmq.POLLIN)
        self._poller.register(client.stdin_channel.socket, zmq.POLLIN)
        self._install()
        if folder is not None:
            self._open_channel(folder)

    def _install(self):
        self._deadline = time.monotonic() + self.timeout
        msg_id = self.client.execute(source(), silent=True, store_history=False)
        reply = self._wait(msg_id)
        if reply["content"]["status"] != "ok":
            raise BoxError(
                f"{self.label} could not start the grader's server: "
                f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}"
            )

    def _open_channel(self, folder):
        """Bind a socket under a name nobody can guess (so nothing can stand in its place),
        let the kernel's server listen on it, and check it answers; else stay on the slow way."""
        path = os.path.join(folder, f"cvlib-{secrets.token_hex(8)}")
        channel = zmq.Context.instance().socket(zmq.PAIR)
        channel.setsockopt(zmq.LINGER, 0)
        try:
            channel.bind(f"ipc://{path}")
            os.chmod(path, 0o777)  # the kernel may run as another user (the box's)
        except (zmq.ZMQError, OSError):
            channel.close()
            return
        self._channel = channel
        self._poller.register(channel, zmq.POLLIN)
        self._listening = self.client.execute(
            f"__cvlib_box__.listen({'ipc://' + path!r})", silent=True, store_history=False
        )
        timeout, self.timeout = self.timeout, min(self.timeout, 30)
        try:
            self.request({"op": "ping"})
        except BoxError:
            self._close_channel()
        finally:
            self.timeout = timeout

    def _close_channel(self):
        if self._channel is not None:
            self._poller.unregister(self._channel)
            self._channel.close()
            self._channel = self._listening = None

    def close(self):
        """Stop the fast channel (the kernel is the caller's to shut down)."""
        if self._channel is not None:
            try:
                self._channel.send(dumps({"stop": True}), zmq.NOBLOCK)
            except zmq.ZMQError:
                pass
            self._close_channel()

    # --- requests ---------------------------------------------------------------------------
    # On the fast channel a request is ``{"request", "seq"}`` on the socket, answered by
    # ``{"reply", "seq"}``; a reply whose seq is not the request's belongs to a request that ran
    # out of time, and is dropped. Callbacks and nested requests go over the socket too.
    #
    # On the slow way a request is one execute_request running ``__cvlib_box__.serve``. While it
    # runs, the box may ask the grader for a reference (a callback): it sends the question as the
    # prompt of an ``input()`` on the stdin channel and waits. The grader's answer to an input is
    # either the final {"value"} / {"error"}, or a {"request"} of its own (the reference calls
    # back into the box, e.g. a numerical gradient of the student's function), which the box
    # answers with the prompt of its next input ({"reply"}). So requests and callbacks nest to
    # any depth.

    def request(self, request, callbacks=None):
        """Send one request (a dict of plain data); the box's answer as a dict."""
        saved = self._callbacks
        self._callbacks = {**saved, **(callbacks or {})}
        try:
            if self._channel is not None:
                return self._on_channel(request)
            if self._depth:  # inside a callback: the box is waiting in input()
                return self._nested(request)
            self._deadline = time.monotonic() + self.timeout
            text = to_text(dumps(request))
            msg_id = self.client.execute(
                f"__cvlib_box__.serve({text!r})",
                silent=True,
                store_history=False,
                user_expressions={"r": "__cvlib_box__.reply"},
                allow_stdin=True,
            )
            reply = self._wait(msg_id)
        finally:
            self._callbacks = saved
        content = reply["content"]
        value = content.get("user_expressions", {}).get("r", {})
        text = value.get("data", {}).get("text/plain", "") if isinstance(value, dict) else ""
        match = _REPLY.fullmatch(text) if isinstance(text, str) else None
        if content.get("status") != "ok" or match is None:
            raise BoxError(
                f"{self.label} did not answer the grader "
                f"({content.get('ename', 'no reply')}: {content.get('evalue', '')})"
            )
        return self._decode_text(match.group(1))

    def _on_channel(self, request):
        """One request on the fast channel (nested, inside a callback, when ``_depth``)."""
        seq = None
        if not self._depth:
            self._deadline = time.monotonic() + self.timeout
            self._seq += 1
            seq = self._seq
        self._channel.send(dumps({"request": request, "seq": seq}))
        while True:
            message = self._from_channel()
            if "callback" in message:
                self._answer(message)
            elif "reply" in message and message.get("seq") == seq:
                self._drain()
                if not isinstance(message["reply"], dict):
                    raise BoxError(f"{self.label} answered with something that is not a reply")
                return message["reply"]

    def _from_channel(self):
        """The next message on the fast channel, decoded."""
        while True:
            left = self._deadline - time.monotonic()
            if left <= 0:
                self._timed_out(None)
            events = dict(self._poller.poll(min(left, 1.0) * 1000))
            if self._channel in events:
                return self._decode(self._channel.recv())
            if self.client.shell_channel.socket in events:
                reply = self.client.get_shell_msg(timeout=0)
                if reply["parent_header"].get("msg_id") == self._listening:
                    self._close_channel()
                    raise BoxError(
                        f"{self.label}'s server stopped while running the student's code"
                    )
            elif not events and self.alive is not None and not self.alive():
                raise BoxError(f"{self.label} died while running the student's code")

    def _decode_text(self, text):
        """:meth:`_decode` of a message that came as text (the kernel's own messages)."""
        try:
            data = from_text(text)
        except WireError as error:
            message = f"{self.label} answered with something that is not data: {error}"
            raise BoxError(message) from None
        return self._decode(data)

    def _decode(self, data):
        """The box's message (wire bytes) as a dict, or a :class:`BoxError`."""
        try:
            answer = loads(data, self._proxy, named=self._named)
        except WireError as error:
            message = f"{self.label} answered with something that is not data: {error}"
            raise BoxError(message) from None
        if not isinstance(answer, dict):
            raise BoxError(f"{self.label} answered with something that is not a reply")
        return answer

    def _nested(self, request):
        self.client.input(to_text(dumps({"request": request})))
        while True:
            message = self._next(None)
            if message is None:
                continue
            if message["msg_type"] != "input_request":
                continue
            asked = self._decode_text(message["content"]["prompt"])
            if "reply" in asked:
                if not isinstance(asked["reply"], dict):
                    raise BoxError(f"{self.label} answered with something that is not a reply")
                return asked["reply"]
            self._answer(asked)

    def _next(self, msg_id):
        """The next stdin message (a callback or a nested reply), or the shell reply to
        ``msg_id``; None when neither came within a second."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            self._timed_out(msg_id)
        events = dict(self._poller.poll(min(left, 1.0) * 1000))
        if self.client.stdin_channel.socket in events:
            return self.client.get_stdin_msg(timeout=0)
        if self.client.shell_channel.socket in events:
            reply = self.client.get_shell_msg(timeout=0)
            if msg_id is not None and reply["parent_header"].get("msg_id") == msg_id:
                return reply
        elif self.alive is not None and not self.alive():
            raise BoxError(f"{self.label} died while running the student's code")
        return None

    def _wait(self, msg_id):
        while True:
            message = self._next(msg_id)
            if message is None:
                continue
            if message["msg_type"] == "input_request":
                self._answer(self._decode_text(message["content"]["prompt"]))
            elif message["parent_header"].get("msg_id") == msg_id:
                self._drain()
                return message

    def _answer(self, asked):
        """Answer the box's callback ``asked``: run the grader's function, send its result."""
        self._depth += 1
        try:
            function = self._callbacks[asked["callback"]]
            data = dumps({"value": function(*asked["args"], **asked["kwargs"])})
        except BoxError:
            raise
        except Exception as error:  # the box asked for something it may not have, or it failed
            data = dumps({"error": RemoteError(type(error).__name__, str(error))})
        finally:
            self._depth -= 1
        if self._channel is not None:
            self._channel.send(data)
        else:
            self.client.input(to_text(data))

    def _timed_out(self, msg_id):
        if self.interrupt is not None:
            self.interrupt()
            end = time.monotonic() + 5
            while msg_id is not None and time.monotonic() < end:  # let it end, ignore its reply
                if self._poller.poll(200):
                    try:
                        reply = self.client.get_shell_msg(timeout=0)
                    except Exception:
                        try:
                            self.client.get_stdin_msg(timeout=0)
                        except Exception:
                            pass
                        continue
                    if reply["parent_header"].get("msg_id") == msg_id:
                        break
        raise BoxError(f"the student's code ran longer than {self.timeout:g} s in {self.label}")

    def _drain(self):
        """Forget the kernel's broadcast messages (status, output) of our requests."""
        while True:
            try:
                self.client.get_iopub_msg(timeout=0)
            except Exception:
                return

    def _callbacks_of(self, tree, callbacks, name):
        """A function as a :class:`Callback` (kept in ``callbacks`` for the request), a dict of
        them (a library's functions the answer may use: ``{"conv": {"conv2d": f}}``) as a dict
        of callbacks."""
        if isinstance(tree, dict):
            return {k: self._callbacks_of(v, callbacks, f"{name}.{k}") for k, v in tree.items()}
        if isinstance(tree, RemoteObject):  # something kept in the box stands in itself
            return tree.handle
        if not callable(tree):
            raise TypeError(f"`isolate` values must be functions or dicts of them, got {tree!r}")
        self._next_callback += 1
        callbacks[self._next_callback] = tree
        return Callback(self._next_callback, name)

    def _outgoing(self, value, callbacks):
        """An argument as it crosses: proxies as their handles, the grader's functions as
        callbacks, named tuples remembered (what comes back as one is rebuilt as the same
        class), containers element by element."""
        if isinstance(value, RemoteObject):
            return value.handle
        if is_network(value):  # the checks build networks in the box (box_torch)
            raise TypeError("a network of the grader's does not cross into the box")
        if isinstance(value, tuple) and hasattr(type(value), "_fields"):
            self._named[type(value).__name__] = type(value)
            return type(value)._make(self._outgoing(v, callbacks) for v in value)
        if isinstance(value, (tuple, list)):
            return type(value)(self._outgoing(v, callbacks) for v in value)
        if isinstance(value, dict):
            return {k: self._outgoing(v, callbacks) for k, v in value.items()}
        if callable(value) and not isinstance(value, type) and not is_data(value):
            return self._callbacks_of(value, callbacks, getattr(value, "__name__", "function"))
        return value

    def _proxy(self, handle):
        if not isinstance(handle, Handle):
            raise WireError("the box may only send handles of its own objects")
        return (RemoteFunction if handle.callable else RemoteObject)(self, handle)

    # --- what the checks use -----------------------------------------------------------------
    def run(self, source, label="<answer>"):
        """Run a cell's source in the notebook's namespace; its exception (as
        :class:`~cvlib.grading.wire.RemoteError`) or None."""
        answer = self.request({"op": "exec", "source": source, "label": label})
        return answer.get("error")

    def get(self, name=None, target=None, attr=None, item=None):
        """A name of the notebook, or an attribute or item of a proxy's object: data or a proxy."""
        request = {"op": "get"}
        if name is not None:
            request["name"] = name
        else:
            request["target"] = target.handle
            request["attr" if attr is not None else "item"] = attr if attr is not None else item
        answer = self.request(request)
        if "error" in answer:
            raise as_exception(answer["error"])
        return answer["value"]

    def call(self, target, args=(), kwargs=None, isolate=None):
        """Call a proxy's function with ``args``/``kwargs`` (plain data or proxies) while the
        names of ``isolate`` (name -> function of the grader's, or a dict of them that stands for
        a module: ``{"conv": {"conv2d": f}}``) mean those functions. The reply:
        ``value``, ``error`` (a RemoteError or None), ``args``/``kwargs`` as the call left them,
        ``out`` (what it printed) and ``cut`` (characters of it not sent)."""
        callbacks = {}
        isolate = (isolate or {}).items()
        refs = {name: self._callbacks_of(tree, callbacks, name) for name, tree in isolate}
        request = {
            "op": "call",
            "target": target.handle,
            "args": [self._outgoing(a, callbacks) for a in args],
            "kwargs": {k: self._outgoing(v, callbacks) for k, v in (kwargs or {}).items()},
            "isolate": refs,
        }
        answer = self.request(request, callbacks)
        if answer.get("failed"):
            raise BoxError(f"{self.label} could not make the call: {answer['error'].message}")
        return answer
