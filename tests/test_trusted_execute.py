"""TrustedExecute's output caps, message by message (the round trips are in
test_trusted_grading.py): a cell keeps at most MAX_CELL_OUTPUT characters and MAX_CELL_OUTPUTS
outputs, and each message costs the same however many came before. And its kernel starts: a
notebook's kernel, or the answers' box's, that dies before it answers (a port taken by another
process, as in a CI run of two graders) is started again, up to KERNEL_STARTS times in all."""

import json
import sys
import time

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpec

from cvlib.grading import registry
from cvlib.tools.grading.sandbox import Limits
from cvlib.tools.grading.trusted_execute import (
    DIED_AT_START,
    KERNEL_STARTS,
    MAX_CELL_OUTPUT,
    MAX_CELL_OUTPUTS,
    AnswersBox,
    TrustedExecute,
)


def _executor():
    executor = TrustedExecute()
    executor._output_sizes = {}  # what preprocess sets up for each notebook
    executor.clear_before_next_output = False
    executor._display_id_map = {}
    return executor


def _message(kind, content):
    return {
        "msg_type": kind,
        "header": {"msg_type": kind},
        "parent_header": {"msg_id": "cell"},
        "metadata": {},
        "content": content,
    }


def test_a_flood_of_outputs_is_capped_by_count_and_by_characters_in_linear_time():
    executor, empty, printed = _executor(), [], []
    start = time.perf_counter()
    for _ in range(20 * MAX_CELL_OUTPUTS):  # empty displays: no characters, only their number
        display = {"data": {"text/plain": ""}, "metadata": {}}
        executor.output(empty, _message("display_data", display), None, 0)
    seconds = time.perf_counter() - start
    assert len(empty) == MAX_CELL_OUTPUTS
    assert seconds < 10  # quadratic would be minutes; linear is well under a second here
    for _ in range(3 * MAX_CELL_OUTPUT // 1000):  # another cell: its own count, cut by size
        stream = {"name": "stdout", "text": "x" * 1000}
        executor.output(printed, _message("stream", stream), None, 1)
    kept = sum(len(o["text"]) for o in printed)
    assert MAX_CELL_OUTPUT <= kept <= MAX_CELL_OUTPUT + 1000
    error = {"ename": "E", "evalue": "kept", "traceback": []}
    executor.output(printed, _message("error", error), None, 1)  # errors always arrive
    assert printed[-1]["output_type"] == "error"


# A kernel that dies before it answers its first `deaths` starts (as one does when another
# process took a port chosen for it), then starts for good; each start appends a line to `log`.
FLAKY_KERNEL = """\
import sys
log, deaths = sys.argv[1], int(sys.argv[2])
with open(log, "a") as f:
    f.write("start\\n")
with open(log) as f:
    if len(f.readlines()) <= deaths:
        sys.exit(1)
from ipykernel import kernelapp
sys.argv = [sys.argv[0], *sys.argv[3:]]
kernelapp.launch_new_instance()
"""


def _flaky_spec(folder, deaths):
    script, log = folder / "flaky_kernel.py", folder / "starts.log"
    script.write_text(FLAKY_KERNEL)
    argv = [sys.executable, str(script), str(log), str(deaths), "-f", "{connection_file}"]
    return {"argv": argv, "display_name": "flaky", "language": "python"}, log


@pytest.mark.parametrize("deaths", [KERNEL_STARTS - 1, KERNEL_STARTS])
def test_a_notebook_kernel_that_dies_before_answering_is_started_again(
    tmp_path, monkeypatch, deaths
):
    spec, log = _flaky_spec(tmp_path, deaths)
    (tmp_path / "kernels" / "flaky").mkdir(parents=True)
    (tmp_path / "kernels" / "flaky" / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    executor = TrustedExecute(kernel_name="flaky", timeout=60)
    resources = {"metadata": {"path": str(tmp_path)}}
    if deaths < KERNEL_STARTS:
        nb, _ = executor.preprocess(nb, resources)
        assert nb.cells[0].outputs[0]["text"] == "42\n"  # the cell ran once, on the last kernel
    else:
        with pytest.raises(RuntimeError, match=DIED_AT_START):
            executor.preprocess(nb, resources)
    assert log.read_text().count("start") == min(deaths + 1, KERNEL_STARTS)


def test_the_answers_box_kernel_that_dies_before_answering_is_started_again(tmp_path, monkeypatch):
    spec, log = _flaky_spec(tmp_path, KERNEL_STARTS - 1)
    monkeypatch.setattr(
        AnswersBox, "_spec", lambda self: KernelSpec(resource_dir=self.folder, **spec)
    )
    box = AnswersBox([], registry.find("a1_convolution"), False, Limits(), 60, None)
    try:
        box.notebook()  # raises if the box never started
        assert box.box.run("answer = 6 * 7", "<grader>") is None
        assert box.box.get("answer") == 42
    finally:
        box.close()
    assert log.read_text().count("start") == KERNEL_STARTS
