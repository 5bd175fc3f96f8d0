"""Test cells decided in the grader's process, against the student's answers in a box.

:class:`TrustedNotebook` takes the notebook nbgrader is grading and two connections
(:class:`~cvlib.grading.remote.Box`): the *answers' box*, a fresh kernel in which only the
student's answer cells (and the definitions and imports of the other cells) have run, with the
assignment's hidden libraries absent (:mod:`cvlib.grading.registry`); and, when a test needs
one of the notebook's variables, the student's own kernel. A test cell's source (the
instructor's: nbgrader has restored it from the gradebook) then runs *here*, with each name it
uses from the notebook bound to what the boxes hold: data, or proxies that call the student's
code in the box. The checks compare what comes back with references computed here, so the
verdict is made where no student code runs. The cell's outputs are this run's: what it printed
and, if it failed, the error; nbgrader scores them as usual (no error: full points).

A test cell's line that only shows something (``print(cvlib.summary(LeNet(), (1, 32, 32)))``:
a ``print`` of the notebook's names and no name the cell set) and that cannot run here, because
it hands the student's network in the box to a library function of this process, is printed
from the student's own kernel instead (:meth:`TrustedNotebook.show`). It decides nothing: the
checks still run here; an exception it raises there fails the cell as it would in the notebook.

What the student's code can still do is give wrong answers, print into its own feedback (cut
after :data:`MAX_OUTPUT` characters per cell) and spend its time limit.
"""

import ast
import builtins
import contextlib
import io
import sys

import nbformat
from threadpoolctl import threadpool_limits

from .wire import RemoteError

MAX_OUTPUT = 20_000  # characters a test cell may print into the feedback
HIDDEN_MARK = "### BEGIN HIDDEN TESTS"  # nbgrader's marker (nbgrader_config.py)
_BUILTINS = frozenset(dir(builtins))


def cell_kind(cell):
    """``"test"``, ``"answer"``, ``"locked"`` or ``"free"`` for a code cell (nbgrader's marks)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("grade") and not meta.get("solution"):
        return "test"
    if meta.get("solution"):
        return "answer"
    return "locked" if meta.get("locked") else "free"


def _parse(source):
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def bound_names(tree):
    """Names a cell binds at its top level (assignments, imports, definitions), not the local
    names of the functions it defines."""
    names = set()
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        if isinstance(
            node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
        ):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return names


def free_names(tree):
    """Names a cell reads but never binds anywhere (nor are builtins), in order of first use."""
    local = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
    }
    local |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    local |= bound_names(tree)
    seen = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id not in local and node.id not in _BUILTINS:
                seen.setdefault(node.id, None)
    return list(seen)


def definitions(source):
    """The imports, definitions and constants of a cell that is not an answer, as source whose
    failed imports bind a stand-in that says the module is out of reach (what the answers'
    box runs of such cells: nothing that computes, draws or loads data)."""
    tree = _parse(source)
    if tree is None:
        return ""
    parts = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            parts.append(_guarded_import(node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            parts.append(ast.unparse(node))
        elif isinstance(node, ast.Assign) and _constant(node.value):
            parts.append(ast.unparse(node))
    return "\n".join(parts)


def _constant(node):
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _guarded_import(node):
    if isinstance(node, ast.Import):
        bound = [(alias.asname or alias.name.split(".")[0], alias.name) for alias in node.names]
    else:
        module = "." * node.level + (node.module or "")
        bound = [(alias.asname or alias.name, f"{module}.{alias.name}") for alias in node.names]
    fallback = "\n".join(
        f"    {name} = __cvlib_box__.unavailable({full!r}, _error)" for name, full in bound
    )
    return f"try:\n    {ast.unparse(node)}\nexcept ImportError as _error:\n{fallback}"


class TrustedNotebook:
    """The test cells of one notebook, decided here against the answers in ``answers`` (a Box).

    ``kernel`` is a callable returning a Box on the student's own kernel (asked only when a
    test cell uses one of the notebook's variables), or None.
    """

    def __init__(self, cells, answers, kernel=None):
        self.answers, self._kernel = answers, kernel
        self.answer_names, self.answer_errors = set(), {}
        self.namespace = {"__name__": "__trusted_test__", "__builtins__": builtins}
        self.locked = []
        for index, cell in enumerate(cells):
            if cell.get("cell_type") != "code":
                continue
            kind, source = cell_kind(cell), cell.get("source", "")
            if kind == "answer":
                tree = _parse(source)
                names = bound_names(tree) if tree is not None else _defined_names(source)
                error = answers.run(source, f"<answer cell {index}>")
                self.answer_names |= names
                if error is not None:
                    for name in names:
                        self.answer_errors[name] = error
            elif kind != "test":
                code = definitions(source)
                if code:
                    answers.run(code, f"<cell {index}>")
                if kind == "locked":
                    tree = _parse(source)
                    self.locked.append((source, bound_names(tree) if tree else set()))

    def run_test(self, source):
        """Run a test cell's ``source`` here: its outputs (nbformat; an error among them if it
        failed) and which part failed (``"visible"``, ``"hidden"`` or None)."""
        out = io.StringIO()
        error = failed = None
        visible, _, hidden = source.partition(HIDDEN_MARK)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), _one_thread():
                failed = "visible"
                self._execute(visible)
                failed = "hidden"
                self._execute(HIDDEN_MARK + hidden if hidden else "")
                failed = None
        except Exception as caught:  # the test failed: its message is the feedback
            error = caught
        return _outputs(out.getvalue(), error), failed

    def _run_locked(self, names):
        """Run here, once each, the instructor's set-up cells that define any of ``names``
        (``torch``, ``A``: what a test cell uses of them), in the notebook's order."""
        for index, (source, defines) in enumerate(self.locked):
            if defines & names:
                self.locked[index] = ("", set())
                with contextlib.suppress(Exception):
                    self._execute(source)

    def _execute(self, source):
        tree = ast.parse(source)
        free = [n for n in free_names(tree) if n not in self.namespace]
        self._run_locked({n for n in free if n not in self.answer_names})
        for name in free:
            if name not in self.namespace:
                self._bind(name)
        set_here = set()  # names the cell has set so far
        for statement in tree.body:
            code = compile(ast.Module([statement], type_ignores=[]), "<test cell>", "exec")
            try:
                exec(code, self.namespace)
            except Exception:
                if not self._shows(statement, set_here):
                    raise
                self.show(ast.unparse(statement))
            set_here |= bound_names(ast.Module([statement], type_ignores=[]))

    def _shows(self, statement, set_here):
        """True for a line that only prints the notebook's things (see the module's text), when
        the student's kernel is there to print it."""
        if self._kernel is None or not isinstance(statement, ast.Expr):
            return False
        call = statement.value
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "print"):
            return False
        names = {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)} - {"print"}
        return bool(names & self.answer_names) and not names & set_here

    def show(self, source):
        """Run the display line ``source`` in the student's own kernel and print what it printed
        there; its exception (the student's code failed there) fails the cell."""
        answer = self._kernel().request(
            {"op": "exec", "source": source, "label": "<test cell>", "limit": MAX_OUTPUT}
        )
        error, printed = answer.get("error"), answer.get("out", "")
        print(printed if isinstance(printed, str) else "", end="")
        if error is not None:
            raise error

    def _bind(self, name):
        if name in self.answer_names:
            try:
                self.namespace[name] = self.answers.get(name)
            except NameError:
                raise NameError(self._undefined(name)) from None
        elif self._kernel is not None:
            with contextlib.suppress(NameError):
                self.namespace[name] = self._kernel().get(name)

    def _undefined(self, name):
        error = self.answer_errors.get(name)
        if error is None:
            return f"name {name!r} is not defined"
        return f"name {name!r} is not defined: its answer cell raised {error.kind}: {error.message}"


@contextlib.contextmanager
def _one_thread():
    """numpy's BLAS, OpenMP and torch on one thread while a test cell runs here, as in the
    boxed kernels (``OMP_NUM_THREADS=1``, one kernel per core). The references are small: on
    more threads they wait for each other and for the box's process (assignment 6's
    overfitting check took 10 s instead of 3)."""
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    try:
        with threadpool_limits(1):
            if torch is not None:
                torch.set_num_threads(1)
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(threads)


def _defined_names(source):
    """Names an answer cell that does not parse meant to define (``def name(`` lines)."""
    names = set()
    for line in source.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("def", "class"):
            names.add(words[1].split("(")[0].split(":")[0])
    return names


def _outputs(printed, error):
    outputs = []
    if len(printed) > MAX_OUTPUT:
        cut = len(printed) - MAX_OUTPUT
        printed = printed[:MAX_OUTPUT] + f"\n[... {cut} more characters were cut here]\n"
    if printed:
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=printed))
    if error is not None:
        kind = error.kind if isinstance(error, RemoteError) else type(error).__name__
        message = error.message if isinstance(error, RemoteError) else str(error)
        outputs.append(
            nbformat.v4.new_output(
                "error", ename=kind, evalue=message, traceback=[f"{kind}: {message}"]
            )
        )
    return outputs
