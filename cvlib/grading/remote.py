"""The grader's end of a trusted check: the student's functions, called across a process boundary.

A :class:`Box` is a connection to one kernel that holds the student's code (a boxed kernel of
:mod:`cvlib.tools.sandbox`, or any Jupyter kernel). :meth:`Box.get` looks a name up in the
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

import builtins
import os
import re
import time

import zmq

from .wire import Callback, Handle, RemoteError, WireError, dumps, from_text, loads, to_text

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
    out of time; ``alive`` (optional) tells whether the kernel still runs.
    """

    def __init__(self, client, timeout=120, interrupt=None, alive=None, label="the box"):
        self.client, self.timeout, self.label = client, timeout, label
        self.interrupt, self.alive = interrupt, alive
        self._callbacks = {}
        self._poller = zmq.Poller()
        self._poller.register(client.shell_channel.socket, zmq.POLLIN)
        self._poller.register(client.stdin_channel.socket, zmq.POLLIN)
        self._install()

    def _install(self):
        msg_id = self.client.execute(source(), silent=True, store_history=False)
        reply = self._wait(msg_id)
        if reply["content"]["status"] != "ok":
            raise BoxError(
                f"{self.label} could not start the grader's server: "
                f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}"
            )

    # --- requests ---------------------------------------------------------------------------
    def request(self, request, callbacks=None):
        """Send one request (a dict of plain data); the box's answer as a dict."""
        self._callbacks = dict(callbacks or {})
        try:
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
            self._callbacks = {}
        content = reply["content"]
        value = content.get("user_expressions", {}).get("r", {})
        text = value.get("data", {}).get("text/plain", "") if isinstance(value, dict) else ""
        match = _REPLY.fullmatch(text) if isinstance(text, str) else None
        if content.get("status") != "ok" or match is None:
            raise BoxError(
                f"{self.label} did not answer the grader "
                f"({content.get('ename', 'no reply')}: {content.get('evalue', '')})"
            )
        try:
            answer = loads(from_text(match.group(1)), self._proxy)
        except WireError as error:
            message = f"{self.label} answered with something that is not data: {error}"
            raise BoxError(message) from None
        if not isinstance(answer, dict):
            raise BoxError(f"{self.label} answered with something that is not a reply")
        return answer

    def _wait(self, msg_id):
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return self._timed_out(msg_id)
            events = dict(self._poller.poll(min(left, 1.0) * 1000))
            if self.client.stdin_channel.socket in events:
                self._answer_callback(self.client.get_stdin_msg(timeout=0))
            if self.client.shell_channel.socket in events:
                reply = self.client.get_shell_msg(timeout=0)
                if reply["parent_header"].get("msg_id") == msg_id:
                    self._drain()
                    return reply
            if not events and self.alive is not None and not self.alive():
                raise BoxError(f"{self.label} died while running the student's code")

    def _timed_out(self, msg_id):
        if self.interrupt is not None:
            self.interrupt()
            end = time.monotonic() + 5
            while time.monotonic() < end:  # let the interrupted request end, ignore its reply
                if self._poller.poll(200):
                    try:
                        reply = self.client.get_shell_msg(timeout=0)
                    except Exception:
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

    def _answer_callback(self, message):
        if message["msg_type"] != "input_request":
            return
        try:
            asked = loads(from_text(message["content"]["prompt"]), self._proxy)
            function = self._callbacks[asked["callback"]]
            result = function(*asked["args"], **asked["kwargs"])
            text = to_text(dumps(result))
        except Exception as error:  # the box asked for something it may not have
            text = to_text(dumps(RemoteError(type(error).__name__, str(error))))
        self.client.input(text)

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
            raise _as_exception(answer["error"])
        return answer["value"]

    def call(self, target, args=(), kwargs=None, isolate=None):
        """Call a proxy's function with ``args``/``kwargs`` (plain data or proxies) while the
        names of ``isolate`` (name -> function of the grader's, or a dict of them that stands for
        a module: ``{"conv": {"conv2d": f}}``) mean those functions. The reply:
        ``value``, ``error`` (a RemoteError or None), ``args``/``kwargs`` as the call left them,
        ``out`` (what it printed) and ``cut`` (characters of it not sent)."""
        callbacks = {}
        refs = {name: _callbacks(tree, callbacks, name) for name, tree in (isolate or {}).items()}
        request = {
            "op": "call",
            "target": target.handle,
            "args": [_ref(a) for a in args],
            "kwargs": {k: _ref(v) for k, v in (kwargs or {}).items()},
            "isolate": refs,
        }
        answer = self.request(request, callbacks)
        if answer.get("failed"):
            raise BoxError(f"{self.label} could not make the call: {answer['error'].message}")
        return answer


def _callbacks(tree, callbacks, name):
    """A function as a :class:`Callback` (numbered in ``callbacks``), a dict of them (a library's
    functions the answer may use: ``{"conv": {"conv2d": ...}}``) as a dict of callbacks."""
    if isinstance(tree, dict):
        return {k: _callbacks(v, callbacks, f"{name}.{k}") for k, v in tree.items()}
    if not callable(tree):
        raise TypeError(f"`isolate` values must be functions or dicts of them, got {tree!r}")
    callbacks[len(callbacks) + 1] = tree
    return Callback(len(callbacks), name)


def _ref(value):
    return value.handle if isinstance(value, (RemoteFunction, RemoteObject)) else value


def _as_exception(error):
    if isinstance(error, RemoteError) and error.kind in (
        "NameError",
        "AttributeError",
        "KeyError",
        "IndexError",
        "TypeError",
        "LookupError",
    ):
        return getattr(builtins, error.kind)(error.message)
    return error if isinstance(error, BaseException) else RemoteError("Error", str(error))


class RemoteObject:
    """An object of the student's that stays in the box (a network, a data set)."""

    __slots__ = ("box", "handle")

    def __init__(self, box, handle):
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "handle", handle)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self.box.get(target=self, attr=name)

    def __getitem__(self, item):
        return self.box.get(target=self, item=item)

    def __repr__(self):
        return repr(self.handle)


class RemoteFunction(RemoteObject):
    """A function or class of the student's, called in the box."""

    __slots__ = ()

    @property
    def __name__(self):
        return self.handle.name or self.handle.kind

    def __call__(self, *args, **kwargs):
        answer = self.box.call(self, args, kwargs)
        if answer.get("error") is not None:
            raise answer["error"]
        return answer["value"]


def is_remote(value):
    """True for a proxy of an object in a box."""
    return isinstance(value, RemoteObject)


def student_line(error):
    """`` (raised at line 4 in `zero_pad`: `x[0] = 1`)`` from a box's traceback text."""
    frames = re.findall(r'File "([^"]*)", line (\d+), in (\S+)\n(?:    (.*)\n)?', error.text)
    frames = [f for f in frames if "cvlib box server" not in f[0]]
    if not frames:
        return ""
    _, line, function, code = frames[-1]
    code = f": `{code.strip()}`" if code.strip() else ""
    return f" (raised at line {line} in `{function}`{code})"
