"""The box's end of a trusted check: runs the student's code when the grader asks, returns data.

The grader (:mod:`cvlib.grading.remote`) never runs a student's function in its own process. It
sends this module's source, with the codec of :mod:`cvlib.grading.wire`, into the boxed kernel
once (:func:`source`), where it becomes the object ``__cvlib_box__``; then each request is one
``__cvlib_box__.serve("<base64>")`` executed in the kernel, whose answer the grader reads back
as ``__cvlib_box__.reply`` (base64 text again). A request names what to do:

- ``exec``: run a cell's source in the notebook's namespace (the answers, once, at the start);
- ``get``: a name of the notebook (``zero_pad``), or an attribute or item of an object kept here;
- ``call``: call one of those with arguments, for instance the check's inputs, while some of
  the notebook's names (the earlier answers this one may call) are swapped for stubs that ask
  the grader (``input()`` on the kernel's stdin channel) to compute the reference on their
  arguments; the reply carries the result, the arguments as the call left them (in-place
  changes show), what the call printed (cut at :data:`MAX_PRINT` characters), its exception
  and the out-of-reach modules it tried (even where the student's code caught the refusal);
- ``define``: run the grader's own helper source (:mod:`cvlib.grading.box_torch`) in a private
  namespace of its own, not the notebook's, and hand back the names asked for (handles): the
  tools that build networks, loaders and optimisers here, for the checks of assignments 3 to 5;
- ``release``: forget objects kept here;
- ``ping``: nothing (the grader checks that the channel below works).

Requests travel one of two ways. The slow way, always there, is the kernel's own messages: one
execute_request per request and ``input()`` for the callbacks, about 7 ms a round trip. The fast
way is a channel of the grader's, a Unix socket in the kernel's connection folder (zmq PAIR):
one execute_request runs :func:`listen`, which answers requests from the socket until the grader
stops it, and callbacks go out on the same socket (well under a millisecond a round trip). The
messages are the same on both ways: ``{"request": ...}`` answered by ``{"reply": ...}``, and a
stub's ``{"callback": ...}`` answered by ``{"value": ...}``, ``{"error": ...}`` or a nested
``{"request": ...}``.

A result that is not plain data (a function, a network) stays here and the grader gets a
handle. Everything here runs in the student's process and may be changed by the student's code:
it can only make the answers wrong, because the grader decides on the data that come back.
"""

import builtins
import contextlib
import io
import sys
import types
import warnings

from cvlib.grading.wire import Handle, dumps, from_text, loads, to_text  # box: wire

MAX_PRINT = 2000  # characters of a call's printed output sent back with its result

_objects = {}  # handle id -> object
_idents = {}  # id(object) -> handle id, so an object kept twice has one handle
reply = ""
_channel = None  # the grader's socket while listen() runs
_refused = []  # the out-of-reach modules the current call tried to use
_added = []  # the stand-ins the current call got for names the notebook does not define


def _namespace():
    shell = getattr(builtins, "get_ipython", lambda: None)()
    return shell.user_ns if shell is not None else sys.modules["__main__"].__dict__


def _keep(value):
    ident = _idents.get(id(value))
    if ident is None or _objects.get(ident) is not value:
        ident = len(_objects) + 1
        while ident in _objects:
            ident += 1
        _objects[ident] = value
        _idents[id(value)] = ident
    name = getattr(value, "__name__", "")
    return Handle(
        ident, type(value).__name__, callable(value), name if isinstance(name, str) else ""
    )


def _object(ref):
    if isinstance(ref, Handle):
        if ref.ident not in _objects:
            raise LookupError(f"object {ref.ident} is no longer kept")
        return _objects[ref.ident]
    return ref


def _ask(message):
    """Send ``message`` to the grader (on the channel, else as the prompt of an ``input()``);
    the grader's next one."""
    if _channel is not None:
        _channel.send(dumps(message, keep=_keep))
        return loads(_channel.recv(), _object, _callback)
    text = builtins.input(to_text(dumps(message, keep=_keep)))
    return loads(from_text(text), _object, _callback)


def _stub(callback, name):
    """A function that asks the grader to run its function ``callback`` on the arguments. While
    it waits, the grader may call back into the box: each such request is answered here."""

    def ask(*args, **kwargs):
        message = _ask({"callback": callback.ident, "args": list(args), "kwargs": kwargs})
        while isinstance(message, dict) and "request" in message:
            message = _ask({"reply": _handle(message["request"])})
        if not isinstance(message, dict) or message.get("error") is not None:
            why = message.get("error") if isinstance(message, dict) else message
            raise RuntimeError(f"the grader's `{name}` failed: {getattr(why, 'message', why)}")
        return message["value"]

    ask.__name__ = ask.__qualname__ = name
    return ask


def _callback(ref):
    return _stub(ref, ref.name or "function")


def _stubs(ref, name):
    """A callback's stub (decoded already), or a namespace of them for a tree (``cvlib.conv``)."""
    if isinstance(ref, dict):
        return types.SimpleNamespace(**{k: _stubs(v, f"{name}.{k}") for k, v in ref.items()})
    return ref


class Unavailable:
    """What a name of the notebook means in the box when its import failed there: the module is
    out of reach for this assignment's answers. Using it says so."""

    def __init__(self, name, reason):
        self._name, self._reason = name, reason

    def _refuse(self, *_, **__):
        _refused.append((self._name, self._reason))  # told even if the student's code hides it
        raise ImportError(
            f"`{self._name}` is not available to this assignment's answers in the grader's box "
            f"({self._reason})"
        )

    __call__ = _refuse

    def __getattr__(self, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        self._refuse()


def unavailable(name, error):
    """An :class:`Unavailable` for the import of ``name`` that failed with ``error``."""
    return Unavailable(name, str(error).splitlines()[0][:200] if str(error) else "not installed")


@contextlib.contextmanager
def _swapped(fn, isolate):
    """The notebook's names in ``isolate`` mean the grader's references while ``fn`` runs (also
    when the notebook failed to define them, so one broken answer costs only its own points)."""
    space = getattr(fn, "__globals__", None)
    if not isinstance(space, dict):
        space = _namespace()
    own = getattr(fn, "__name__", None)
    missing = object()
    saved = {}
    try:
        for name, callback in isolate.items():
            if name == own:
                continue
            saved[name] = space.get(name, missing)
            if saved[name] is missing:
                _added.append(name)
            space[name] = _stubs(callback, name)
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                space.pop(name, None)
            else:
                space[name] = value


def _call(request):
    target = _object(request["target"])
    args, kwargs = [_object(a) for a in request["args"]], request["kwargs"]
    out = io.StringIO()
    result, error = None, None
    del _refused[:]
    del _added[:]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with _errstate(), _swapped(target, request.get("isolate", {})):
                    result = target(*args, **kwargs)
    except Exception as caught:
        error = caught
    return {
        "value": result,
        "error": error,
        "args": args,
        "kwargs": kwargs,
        "out": out.getvalue()[:MAX_PRINT],
        "cut": max(0, len(out.getvalue()) - MAX_PRINT),
        "refused": [list(pair) for pair in sorted(set(_refused))],
        "added": list(_added),
    }


def _errstate():
    numpy = sys.modules.get("numpy")
    return numpy.errstate(all="ignore") if numpy is not None else contextlib.nullcontext()


def _get(request):
    if "name" in request:
        space = _namespace()
        if request["name"] not in space:
            raise NameError(f"name {request['name']!r} is not defined")
        return space[request["name"]]
    value = _object(request["target"])
    if "attr" in request:
        return getattr(value, request["attr"])
    return value[request["item"]]


def _exec(request):
    out = io.StringIO()
    error = None
    try:
        code = compile(request["source"], request.get("label", "<answer>"), "exec")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(code, _namespace())
    except BaseException as caught:
        error = caught if isinstance(caught, Exception) else RuntimeError(repr(caught))
    limit = request.get("limit", MAX_PRINT)
    limit = min(limit, 100_000) if type(limit) is int else MAX_PRINT
    return {"error": error, "out": out.getvalue()[:limit]}


def _define(request):
    """Run the grader's helper source in a fresh namespace; the names asked for (handles)."""
    space = {"__name__": "__cvlib_helpers__", "__builtins__": builtins}
    exec(compile(request["source"], request.get("label", "<the grader's helpers>"), "exec"), space)
    return {"value": {name: space[name] for name in request["names"]}}


def _handle(request):
    """The answer (a dict) to one request."""
    try:
        op = request["op"]
        if op == "exec":
            return _exec(request)
        if op == "call":
            return _call(request)
        if op == "get":
            return {"value": _get(request)}
        if op == "define":
            return _define(request)
        if op == "release":
            for ident in request["ids"]:
                _idents.pop(id(_objects.pop(ident, None)), None)
            return {}
        if op == "ping":
            return {}
        raise ValueError(f"unknown request {op!r}")
    except Exception as error:  # the request failed before the student's code ran
        return {"error": error, "failed": True}


def _encoded(answer):
    try:
        return dumps(answer, keep=_keep)
    except Exception as error:  # a result that cannot be encoded
        return dumps({"error": error, "failed": True})


def listen(address):
    """Answer the requests that come on the grader's socket at ``address`` until it says stop.
    An interrupt (the grader's timeout) ends the request it hit, not the loop."""
    global _channel
    import zmq

    context = zmq.Context()
    channel = context.socket(zmq.PAIR)
    channel.setsockopt(zmq.LINGER, 0)
    channel.connect(address)
    _channel = channel
    try:
        while True:
            try:
                message = loads(channel.recv(), _object, _callback)
            except KeyboardInterrupt:  # a late interrupt while idle
                continue
            except Exception as error:  # a message that is not one
                channel.send(_encoded({"reply": {"error": error, "failed": True}}))
                continue
            if not isinstance(message, dict) or "request" not in message:
                if isinstance(message, dict) and message.get("stop"):
                    return
                continue  # a stale answer to a callback whose request ended
            try:
                answer = _handle(message["request"])
            except KeyboardInterrupt:
                answer = {"error": RuntimeError("interrupted by the grader"), "failed": True}
            channel.send(_encoded({"reply": answer, "seq": message.get("seq")}))
    finally:
        _channel = None
        channel.close()
        context.term()


def serve(text):
    """Answer one request (base64 text); the answer is left in ``reply``."""
    global reply
    try:
        answer = _handle(loads(from_text(text), _object, _callback))
    except Exception as error:  # a request that is not one
        answer = {"error": error, "failed": True}
    reply = to_text(_encoded(answer))
