"""TrustedExecute's output caps, message by message (the round trips are in
test_trusted_grading.py): a cell keeps at most MAX_CELL_OUTPUT characters and MAX_CELL_OUTPUTS
outputs, and each message costs the same however many came before."""

import time

from cvlib.tools.grading.trusted_execute import MAX_CELL_OUTPUT, MAX_CELL_OUTPUTS, TrustedExecute


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
