"""Hostile submissions against the class grader, graded as an instructor runs it (issue 20).

One course of assignment 1 (real nbgrader, every kernel boxed, the trusted verdict of
cvlib.tools.grading.trusted_execute). Beside an honest student, each submission attacks the
grading in one way and, in the same answer, gets the answer wrong: it must earn nothing from the
cells it attacks, every other cell keeps its points, nothing of the grader's or of the course's (the
solutions, the gradebook, the held-out seed) reaches its feedback, the honest student's grade
and files are untouched, and the summary names what was refused or stopped.

Then the pre-flight: with a box that cannot import the course library, the class grader stops
before it writes any grade, saying why.
"""

import hashlib
import os
import sysconfig
from pathlib import Path

import nbformat
import pytest
from gradebook_helpers import sandbox as sandbox
from nbgrader.api import Gradebook

from cvlib.tools.grading import demo, sandbox_kernel
from cvlib.tools.grading.autograde_class import autograde_class, summary
from cvlib.tools.grading.nbgrader_driver import nbgrader
from cvlib.tools.grading.preflight import PreflightFailed

pytestmark = pytest.mark.slow

NAME = "a1_convolution"
FULL = {  # automatic points of assignment 1's test cells
    "test_zero_pad": 2,
    "test_output_size": 1,
    "test_conv2d_single": 2,
    "test_conv2d_strided": 3,
    "test_conv2d_multi": 3,
    "test_apply_filters": 2,
    "test_dense_params": 1,
    "test_conv_params": 1,
}
SEED = "424242"

# Each attack: {answer grade_id: source}, wrong in the attacked answer.
WRONG_PAD = "def zero_pad(x, padding):\n    return x\n"
ATTACKS = {
    # the import system serves a fake cvlib.grading whose checks always pass
    "forge-import": {
        "zero_pad": WRONG_PAD + "import builtins, types\n_real = builtins.__import__\n"
        "fake = types.ModuleType('cvlib.grading')\n"
        "fake.__getattr__ = lambda name: (lambda *a, **k: None)\n"
        "def _imp(name, *a, **k):\n"
        "    return fake if name.startswith('cvlib.grading') else _real(name, *a, **k)\n"
        "builtins.__import__ = _imp\n"
    },
    # the module table's entry for the checks replaced
    "forge-modules": {
        "output_size": "def output_size(n, kernel_size, stride=1, padding=0):\n    return n\n"
        "import sys, types\nfake = types.ModuleType('cvlib.grading')\n"
        "fake.__getattr__ = lambda name: (lambda *a, **k: None)\n"
        "sys.modules['cvlib.grading'] = fake\n"
    },
    # IPython's runner made to report success for every cell that mentions a check
    "forge-runner": {
        "conv2d_single": "import numpy as np\n"
        "def conv2d_single(x, weight):\n    return np.zeros((1, 1))\n"
        "shell = get_ipython()\n_run = shell.run_cell\n"
        "def run_cell(raw_cell, *a, **k):\n"
        "    if 'check_' in raw_cell:\n        raw_cell = 'pass'\n"
        "    return _run(raw_cell, *a, **k)\n"
        "shell.run_cell = run_cell\n"
    },
    # the checks' helpers found with the garbage collector and their code swapped
    "gc-swap": {
        "conv2d_strided": "import gc, numpy as np\n"
        "def conv2d_strided(x, weight, stride=1, padding=0):\n    return np.zeros((1, 1))\n"
        "def _ok(*a, **k):\n    return None\n"
        "for f in gc.get_objects():\n"
        "    if getattr(f, '__module__', '') and str(getattr(f, '__module__', ''))"
        ".startswith('cvlib.grading') and hasattr(f, '__code__'):\n"
        "        f.__code__ = _ok.__code__\n"
    },
    # an execute_result on the display before the check fails (nbgrader's partial credit)
    "display-hook": {
        "dense_params": "import sys\n"
        "def dense_params(in_features, out_features):\n"
        "    sys.displayhook(1)\n    return 0\n"
    },
    # the library's convolution from another thread (and torch is not in the box)
    "thread-library": {
        "conv2d_multi": "import threading\n"
        "def conv2d_multi(x, weight, bias=None, stride=1, padding=0):\n"
        "    out = {}\n"
        "    def work():\n"
        "      try:\n"
        "        import torch\n"
        "        b = None if bias is None else torch.from_numpy(bias)\n"
        "        out['y'] = torch.nn.functional.conv2d(torch.from_numpy(x)[None],"
        " torch.from_numpy(weight), b, stride, padding)[0].numpy()\n"
        "      except Exception as error:\n"
        "        out['error'] = error\n"
        "    t = threading.Thread(target=work)\n    t.start()\n    t.join()\n"
        "    if 'error' in out:\n        raise out['error']\n"
        "    return out['y']\n"
    },
    # the caller's array changed in place
    "mutate-input": {
        "conv_params": "def conv_params(in_channels, out_channels, kernel_size):\n"
        "    return out_channels * in_channels * kernel_size * kernel_size + out_channels\n",
        "zero_pad": "import numpy as np\n"
        "def zero_pad(x, padding):\n"
        "    p = (padding, padding) if isinstance(padding, int) else padding\n"
        "    out = np.zeros((*x.shape[:-2], x.shape[-2] + 2 * p[0], x.shape[-1] + 2 * p[1]))\n"
        "    out[..., p[0]:p[0] + x.shape[-2], p[1]:p[1] + x.shape[-1]] = x\n"
        "    x[...] = 0\n    return out\n",
    },
}
LOSES = {
    "forge-import": {"test_zero_pad"},
    "forge-modules": {"test_output_size"},
    "forge-runner": {"test_conv2d_single"},
    "gc-swap": {"test_conv2d_strided"},
    "display-hook": {"test_dense_params"},
    "thread-library": {"test_conv2d_multi"},
    "mutate-input": {"test_zero_pad"},
}
# Submissions that bring files or run code in free cells (added at the notebook's end).
SNOOP = (
    "import os\n"
    "print('SEED:', os.environ.get('CVLIB_HELDOUT_SEED'))\n"
    "for path in {paths!r}:\n"
    "    try:\n        print('READ', path, open(path, 'rb').read()[:200])\n"
    "    except Exception as error:\n        print('NO', path, type(error).__name__)\n"
)


def _notebook(release_nb, source_nb, answers=None, extra_cell=None):
    notebook = demo.student_notebook(release_nb, source_nb, answers)
    if extra_cell:
        notebook.cells.append(nbformat.v4.new_code_cell(extra_cell))
    return notebook


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox):
    course = tmp_path_factory.mktemp("hostile")
    demo.make_course(course, [NAME])
    nbgrader(course, "generate_assignment", NAME, "--force")
    (filename,) = demo.notebooks_of(course, NAME, "release")
    rel = demo.notebooks_of(course, NAME, "release")[filename]
    src = demo.notebooks_of(course, NAME, "source")[filename]
    solution_file = course / "source" / NAME / filename
    secrets = [str(solution_file), str(course / "gradebook.db"), "/etc/shadow"]

    def submit(student, answers=None, extra=None):
        notebook = _notebook(rel, src, answers, extra)
        return demo.submit(course, student, NAME, {filename: notebook})

    honest = submit("honest")
    for student, answers in ATTACKS.items():
        submit(student, answers)
    # the notebook itself a link to the instructor's solution
    linked = submit("linked-notebook")
    (linked / filename).unlink()
    (linked / filename).symlink_to(solution_file)
    # links to the grader's private files, and a notebook that reads them
    snoop = submit("linked-files", extra=SNOOP.format(paths=["gradebook", "solution", "shadow"]))
    (snoop / "gradebook").symlink_to(course / "gradebook.db")
    (snoop / "solution").symlink_to(solution_file)
    (snoop / "shadow").symlink_to("/etc/shadow")
    # a planted cvlib package with checks that always pass, and a wrong zero_pad
    planted = submit("planted-cvlib", {"zero_pad": WRONG_PAD})
    (planted / "cvlib" / "grading").mkdir(parents=True)
    (planted / "cvlib" / "__init__.py").write_text("")
    (planted / "cvlib" / "grading" / "__init__.py").write_text(
        "def __getattr__(name):\n    return lambda *a, **k: None\n"
    )
    # the box's paths: the seed, the course's files, the solutions, all absent
    submit("read-secrets", extra=SNOOP.format(paths=secrets))
    # 100 MB printed; 2.1 GB into the box's /tmp, 64 MB at a time, past the 2 GB memory limit
    submit("print-flood", extra="print('x' * 10**8)")
    hog = (
        "import time\nchunk = b'\\0' * 64 * 2**20\n"
        "with open('/tmp/hog', 'wb') as f:\n    for _ in range(34):\n        f.write(chunk)\n"
        "time.sleep(3)\n"
    )
    submit("tmp-hog", extra=hog)
    honest_files = _digest(honest)
    os.environ["CVLIB_HELDOUT_SEED"] = SEED
    try:
        outcomes = autograde_class(course, NAME, progress=False)
    finally:
        os.environ.pop("CVLIB_HELDOUT_SEED")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {
            s.student_id: {g.name: g.score for nb in s.notebooks for g in nb.grades}
            for s in gb.assignment_submissions(NAME)
        }
    return {
        "course": course,
        "filename": filename,
        "outcomes": {o.student: o for o in outcomes},
        "summary": summary(outcomes),
        "scores": scores,
        "honest_files": honest_files,
    }


def _autograded(graded, student):
    return graded["course"] / "autograded" / student / NAME / graded["filename"]


def _auto(scores):
    return {k: v for k, v in scores.items() if k in FULL}


def test_the_honest_student_keeps_every_point_and_their_files(graded):
    assert _auto(graded["scores"]["honest"]) == FULL
    honest = graded["course"] / "submitted" / "honest" / NAME
    assert _digest(honest) == graded["honest_files"]


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_an_attack_earns_nothing_from_the_cells_it_attacks(graded, student):
    got = _auto(graded["scores"][student])
    for cell, points in FULL.items():
        expected = 0 if cell in LOSES[student] else points
        assert got[cell] == expected, (student, cell, got, graded["summary"])


def test_a_display_hook_gets_no_partial_credit_and_the_library_is_out_of_reach(graded):
    notebook = nbformat.read(_autograded(graded, "thread-library"), as_version=4)
    said = {
        c.metadata.nbgrader["grade_id"]: "".join(o.get("evalue", "") for o in c.outputs)
        for c in notebook.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    }
    assert "not available to this assignment's answers" in said["test_conv2d_multi"]
    assert "torch" in said["test_conv2d_multi"]
    hooked = nbformat.read(_autograded(graded, "display-hook"), as_version=4)
    for cell in hooked.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            assert all(o.output_type != "execute_result" for o in cell.get("outputs", []))


def test_links_and_planted_packages_never_enter_the_box(graded):
    outcomes, text = graded["outcomes"], graded["summary"]
    linked = outcomes["linked-notebook"]  # nothing of it entered the box: nothing graded,
    assert linked.status == "refused"  # but in the gradebook at 0, for formgrader to list it
    assert set(_auto(graded["scores"]["linked-notebook"]).values()) == {0}
    assert "symbolic link" in linked.message
    assert any("cvlib: a folder" in r for r in outcomes["planted-cvlib"].refused)
    assert _auto(graded["scores"]["planted-cvlib"]) == {**FULL, "test_zero_pad": 0}
    refused = outcomes["linked-files"].refused
    assert {r.split(":")[0] for r in refused} == {"gradebook", "solution", "shadow"}
    for student in ("linked-notebook", "linked-files", "planted-cvlib"):
        assert student in text, text


def test_nothing_of_the_graders_reaches_the_feedback(graded):
    for student in ("linked-files", "read-secrets"):
        text = _autograded(graded, student).read_text()
        assert "SEED: None" in text and SEED not in text
        assert "SQLite format" not in text and "BEGIN SOLUTION" not in text
        assert "READ" not in text.replace("'READ'", "")  # every read failed
    assert _auto(graded["scores"]["read-secrets"]) == FULL


def test_limits_count_the_boxs_tmp_and_cut_what_a_submission_prints(graded):
    assert _autograded(graded, "print-flood").stat().st_size < 2 * 2**20
    assert "were cut here" in _autograded(graded, "print-flood").read_text()
    hog = graded["outcomes"]["tmp-hog"]
    assert "memory" in hog.stopped_by, graded["summary"]
    assert _auto(graded["scores"]["tmp-hog"]) == FULL  # the tests ran in the grader anyway


def test_the_preflight_stops_a_run_whose_box_cannot_import_the_library(
    tmp_path, sandbox, monkeypatch
):
    course = tmp_path / "course"
    demo.make_course(course, [NAME])
    nbgrader(course, "generate_assignment", NAME, "--force")
    (filename,) = demo.notebooks_of(course, NAME, "release")
    rel = demo.notebooks_of(course, NAME, "release")[filename]
    src = demo.notebooks_of(course, NAME, "source")[filename]
    demo.submit(course, "student", NAME, {filename: demo.student_notebook(rel, src)})
    # The box's Python cannot find the course library (as when the grader imports a checkout's
    # cvlib that is not installed in the environment the kernels run): its .pth is masked.
    (pth,) = Path(sysconfig.get_paths()["purelib"]).glob("__editable__*cnn_course*.pth")
    original = sandbox_kernel.box_command

    def without_library(argv, workdir, box_dir, limits, env=None, masks=()):
        empty = Path(box_dir) / "empty.pth"
        empty.write_text("")
        empty.chmod(0o644)
        return original(argv, workdir, box_dir, limits, env, [*masks, (str(pth), str(empty))])

    monkeypatch.setattr(sandbox_kernel, "box_command", without_library)
    with pytest.raises(PreflightFailed) as failed:
        autograde_class(course, NAME, progress=False)
    message = str(failed.value)
    assert "test_apply_filters" in message and "No module named 'cvlib'" in message, message
    assert "install it into the environment" in message
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.assignment_submissions(NAME) == []  # no grade was written
