"""nbgrader's ``Execute`` with the test cells decided outside the student's kernel.

:class:`TrustedExecute` replaces ``Execute`` among nbgrader's autograde preprocessors (the
course's ``nbgrader_config.py`` and the class grader set it)::

    c.Autograde.autograde_preprocessors = [TrustedExecute, ...]   # see nbgrader_config.py

For an assignment of :mod:`cvlib.grading.registry` it runs the notebook in the student's
kernel as nbgrader does, except the test cells the registry names: those run in this process
(:class:`cvlib.grading.trusted.TrustedNotebook`) against a second kernel, the *answers' box*,
where only the answers were defined and the assignment's hidden libraries do not exist. It
starts while the notebook runs. With the boxed kernel (``cvlib-sandbox``) the answers' box is
boxed too, with the same limits, an empty working folder and the hidden modules masked
(:func:`cvlib.tools.grading.sandbox.mask_paths`); with any other kernel it is a plain kernel of this
environment, and the hidden modules are only refused at import (a courtesy, not a guarantee).

Every cell's outputs are cut at :data:`MAX_CELL_OUTPUT` characters of text (the feedback says
where), so a submission that prints without end still makes a small notebook; and no test cell
keeps an ``execute_result`` (nbgrader would take partial credit from it).
"""

import json
import os
import shutil
import tempfile
import threading

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbclient.util import run_sync
from nbgrader.preprocessors import Execute
from traitlets import Bool, Unicode

from cvlib.grading import registry
from cvlib.grading.remote import Box, BoxError
from cvlib.grading.trusted import TrustedNotebook, cell_kind
from cvlib.tools.grading.sandbox import KERNEL_NAME, Limits, kernel_spec, mask_paths

MAX_CELL_OUTPUT = 100_000  # characters of text one cell keeps in the graded notebook
MAX_CELL_OUTPUTS = 1_000  # outputs (messages) one cell keeps
#: Kernel starts tried for one notebook (and for its answers' box) before its grading fails. A
#: kernel that dies before it answers its first request has run no line of the submission: on
#: loopback TCP, which a plain kernel uses, another process may take a port chosen for it before
#: it binds it (zmq's "Address already in use": two graders started kernels at once). The boxed
#: kernel talks through ipc files, without ports. Nothing runs twice: the cells start only once
#: a kernel has answered.
KERNEL_STARTS = 3
DIED_AT_START = "Kernel died before replying to kernel_info"  # jupyter_client's message


def _start_again(error, attempt):
    """Whether a kernel start that failed with ``error`` on start number ``attempt`` (from 1)
    is followed by another: only a kernel that died before it answered, :data:`KERNEL_STARTS`
    starts in all."""
    return attempt < KERNEL_STARTS and DIED_AT_START in str(error)


class _OneSpec(KernelSpecManager):
    """A kernel spec manager that knows one spec (the answers' box)."""

    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self._spec = spec

    def get_kernel_spec(self, kernel_name):
        return self._spec


class AnswersBox:
    """A kernel in which only the answers run: started in a thread, so it boots while the
    notebook runs; :meth:`notebook` waits for it and returns the TrustedNotebook."""

    def __init__(self, cells, assignment, boxed, limits, timeout, kernel):
        self.cells, self.assignment, self.boxed = cells, assignment, boxed
        self.limits, self.timeout, self.kernel = limits, timeout, kernel
        self.km = self.client = self.box = self.error = self._trusted = None
        self.folder = tempfile.mkdtemp(prefix="cvlib-answers-")
        self._ready, self._closing = threading.Event(), threading.Event()
        # The thread that starts the box lives as long as the box: bubblewrap's
        # --die-with-parent kills the box when the *thread* that started it ends.
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            self._start()
        finally:
            self._ready.set()
        self._closing.wait()
        if self.box is not None:
            self.box.close()
        if self.client is not None:
            self.client.stop_channels()
        if self.km is not None and self.km.has_kernel:
            self.km.shutdown_kernel(now=True)

    def _spec(self):
        spec = kernel_spec(self.limits)
        if self.boxed:
            hidden = mask_paths(self.assignment.hidden, self.assignment.allowed)
            spec["metadata"]["kernel_provisioner"]["config"]["hidden"] = hidden
        else:  # a plain kernel, on one thread as the boxed one (kernel_env): a thread count
            del spec["metadata"]  # of its own would round a training step differently
            spec["env"] = {"OMP_NUM_THREADS": "1"}
        return KernelSpec(resource_dir=self.folder, **spec)

    def _start_kernel(self):
        """Start the box's kernel and wait for its first answer, starting another if it died
        before it answered (:data:`KERNEL_STARTS` in all)."""
        for attempt in range(1, KERNEL_STARTS + 1):
            self.km = KernelManager(
                kernel_name="cvlib-answers", kernel_spec_manager=_OneSpec(self._spec())
            )
            self.km.start_kernel(cwd=self.folder)
            self.client = self.km.blocking_client()
            self.client.start_channels()
            try:
                return self.client.wait_for_ready(timeout=120)
            except RuntimeError as error:
                if not _start_again(error, attempt):
                    raise
                self.client.stop_channels()
                self.km.shutdown_kernel(now=True)  # reaps the process, removes its files

    def _start(self):
        try:
            self._start_kernel()
            box = self.box = Box(
                self.client,
                self.timeout,
                self.km.interrupt_kernel,
                self.km.is_alive,
                "the answers' box",
                folder=os.path.dirname(self.km.connection_file),
            )
            if not self.boxed:
                box.run(_refuse_imports(self.assignment), "<grader>")
            if self.assignment.preload:  # loaded before any student code can break its loading
                box.run("import " + ", ".join(self.assignment.preload), "<grader>")
            self._trusted = TrustedNotebook(self.cells, box, self.kernel)
        except Exception as error:  # reported on every trusted test cell
            self.error = error

    def notebook(self):
        self._ready.wait()
        if self.error is not None:
            raise BoxError(f"the answers' box could not start: {self.error}")
        return self._trusted

    def close(self):
        self._closing.set()
        self._thread.join()
        shutil.rmtree(self.folder, ignore_errors=True)


def _refuse_imports(assignment):
    """Source that refuses imports of the hidden modules (unboxed grading only). Looking one up
    finds a spec without a file (as libraries probe what is installed: torch's compiler asks
    ``importlib.util.find_spec("sklearn")``), and importing it raises ImportError."""
    return (
        "import importlib.abc as _abc, importlib.machinery as _machinery, sys as _sys\n"
        f"_hidden, _allowed = {tuple(assignment.hidden)!r}, {tuple(assignment.allowed)!r}\n"
        "class _Refuse(_abc.MetaPathFinder, _abc.Loader):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if any(a == name or a.startswith(name + '.') for a in _allowed) or not any("
        "name == h or name.startswith(h + '.') for h in _hidden):\n"
        "            return None\n"
        "        return _machinery.ModuleSpec(name, self)\n"
        "    def create_module(self, spec):\n"
        "        raise ImportError(\n"
        "            f'{spec.name} is not available to this assignment\\'s answers')\n"
        "    def exec_module(self, module):\n"
        "        pass\n"
        "_sys.meta_path.insert(0, _Refuse())\n"
        "for _name in [n for n in _sys.modules if any(n == h or n.startswith(h + '.')"
        " for h in _hidden) and not any(a == n or a.startswith(n + '.') for a in _allowed)]:\n"
        "    del _sys.modules[_name]\n"
    )


class TrustedExecute(Execute):
    """nbgrader's Execute; the registry's test cells are decided in this process."""

    assignment_name = Unicode("", help="the assignment (default: the one nbgrader is grading)").tag(
        config=True
    )

    decide_in_kernel = Bool(
        False,
        help="decide every test cell in the student's kernel, as nbgrader's Execute does: for "
        "measuring what the trusted verdict costs (cvlib.tools.grading.bench_grading), never for "
        "a class",
    ).tag(config=True)

    _answers = None
    _kernel_box = None
    _output_sizes = None

    def preprocess(self, nb, resources=None, km=None):
        name = self.assignment_name or (resources or {}).get("nbgrader", {}).get("assignment", "")
        assignment = registry.find(name) if name else None
        trusted = (
            assignment is not None
            and not self.decide_in_kernel
            and any(
                cell_kind(c) == "test" and assignment.decides(_grade_id(c))
                for c in nb.cells
                if c.cell_type == "code"
            )
        )
        self._assignment = assignment if trusted else None
        self._output_sizes = {}
        if self._assignment is not None:
            cells = [dict(c) for c in nb.cells]
            self._answers = AnswersBox(
                cells,
                assignment,
                self.kernel_name == KERNEL_NAME,
                self._limits(),
                self.timeout or 120,
                self._student_kernel,
            )
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self._close()

    async def async_start_new_kernel_client(self):
        """nbclient's, but a notebook kernel that died before it answered is replaced by a new
        one (:data:`KERNEL_STARTS` starts in all) instead of failing the submission."""
        for attempt in range(1, KERNEL_STARTS + 1):
            try:
                return await super().async_start_new_kernel_client()
            except RuntimeError as error:  # nbclient has shut the dead kernel down
                if not _start_again(error, attempt):
                    raise
                self.log.warning(
                    "The kernel died before it answered (start %d of %d): starting another.",
                    attempt,
                    KERNEL_STARTS,
                )
                if self.km is None:
                    self.km = self.create_kernel_manager()
                await self.async_start_new_kernel()

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _limits(self):
        if self.kernel_name != KERNEL_NAME:
            return Limits()
        try:
            spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
            config = spec.metadata["kernel_provisioner"]["config"]
            return Limits(**{k: config[k] for k in Limits.__dataclass_fields__ if k in config})
        except Exception:
            return Limits()

    def _student_kernel(self):
        if self._kernel_box is None:
            client = self.km.blocking_client()
            client.start_channels()
            self._kernel_box = Box(client, self.timeout or 120, None, None, "the notebook's kernel")
        return self._kernel_box

    def _close(self):
        if self._kernel_box is not None:
            self._kernel_box.client.stop_channels()
            self._kernel_box = None
        if self._answers is not None:
            self._answers.close()
            self._answers = None

    def output(self, outs, msg, display_id, cell_index):
        """Keep a cell's text output only up to :data:`MAX_CELL_OUTPUT` characters and
        :data:`MAX_CELL_OUTPUTS` outputs as it arrives (errors always), so that no submission can
        fill the grader's memory or the graded notebook. A running count per cell: each message
        costs the same however much came before."""
        if msg["msg_type"] in ("stream", "display_data", "execute_result"):
            count, size = self._output_sizes.get(cell_index, (0, 0))
            if size > MAX_CELL_OUTPUT or count >= MAX_CELL_OUTPUTS:
                return None
            self._output_sizes[cell_index] = (count + 1, size + _message_size(msg))
        return super().output(outs, msg, display_id, cell_index)

    def preprocess_cell(self, cell, resources, index):
        if (
            self._assignment is not None
            and cell.cell_type == "code"
            and cell_kind(cell) == "test"
            and self._assignment.decides(_grade_id(cell))
        ):
            self.code_cells_executed += 1
            cell.execution_count = self.code_cells_executed
            try:
                cell.outputs, failed = self._answers.notebook().run_test(cell.source)
            except BoxError as error:
                cell.outputs, failed = [_error_output(error)], "visible"
            if failed == "visible":
                _record(resources, _grade_id(cell))
            return cell, self.resources
        cell, resources = super().preprocess_cell(cell, resources, index)
        if cell.cell_type == "code":
            if cell_kind(cell) == "test":  # nbgrader would take partial credit from these
                cell.outputs = [o for o in cell.outputs if o.output_type != "execute_result"]
            cut_outputs(cell, MAX_CELL_OUTPUT)
        return cell, resources


FLAGS_ENV = "CVLIB_GRADING_FLAGS"  # a file: one JSON line per test cell whose visible part failed


def _record(resources, grade_id):
    """Note a test cell whose visible tests failed here, for the class grader to compare with
    the student's own run of them (:func:`cvlib.tools.grading.grade_submission.disagreements`)."""
    path = os.environ.get(FLAGS_ENV)
    if path:
        notebook = (resources or {}).get("nbgrader", {}).get("notebook", "")
        with open(path, "a") as handle:
            handle.write(json.dumps({"notebook": notebook, "grade_id": grade_id}) + "\n")


def _message_size(msg):
    """Characters of text one output message carries."""
    content = msg.get("content", {})
    if msg["msg_type"] == "stream":
        return len(str(content.get("text", "")))
    data = content.get("data", {})
    return sum(len(str(v)) for k, v in data.items() if str(k).startswith("text/"))


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def _error_output(error):
    from nbformat.v4 import new_output

    message = f"this test could not be graded: {error}"
    return new_output("error", ename="GradingError", evalue=message, traceback=[message])


def cut_outputs(cell, limit):
    """Cut the text of ``cell``'s outputs after ``limit`` characters in all, saying where."""
    left = limit
    for output in cell.outputs:
        if output.output_type == "stream":
            keys = [("text", output)]
        elif output.output_type in ("display_data", "execute_result"):
            keys = [(k, output.data) for k in output.data if k.startswith("text/")]
        elif output.output_type == "error":
            output.traceback = output.traceback[:100]
            keys = []
        else:
            keys = []
        for key, holder in keys:
            text = holder[key] if isinstance(holder[key], str) else "".join(holder[key])
            if len(text) > left:
                holder[key] = text[: max(left, 0)] + (
                    f"\n[... {len(text) - max(left, 0)} more characters were cut here by the "
                    "grader]\n"
                )
            left -= min(len(text), max(left, 0))
