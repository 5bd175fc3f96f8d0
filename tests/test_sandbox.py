"""The grading box against hostile submissions, with the class grader's default options.

Intrusions: read the instructor's solutions, write another student's notebook, write the
gradebook, read a file in the grader's home, connect to a loopback listener the test runs, make a
user namespace (the door to kernel attack surface), fork without bound.

A class of the tiny assignment (``gradebook_helpers``) in a scratch course with the default SQLite
gradebook: two honest students and one student per intrusion. Each hostile submission tries its
intrusion in its first answer cell, prints ``INTRUSION <name>`` if it worked and ``blocked
<name>`` if not, and then answers like the solution. Graded by ``autograde_class`` with no
options but a small process limit, every intrusion must fail, the victims' files must stay
byte-identical and score full marks, and ``nbgrader export`` must still work. The same attacks
graded with ``sandbox=False`` succeed (the control: without the box, this test fails).
"""

import csv
import hashlib
import os
import socket
import threading

import nbformat
import pytest
from gradebook_helpers import (
    ANSWERS,
    ASSIGNMENT,
    FILENAME,
    FULL,
    POINTS,
    make_tiny_course,
    submit,
)
from gradebook_helpers import sandbox as sandbox

from cvlib.tools.grading.autograde_class import autograde_class, summary
from cvlib.tools.grading.autograde_class import main as autograde_main
from cvlib.tools.grading.nbgrader_driver import nbgrader
from cvlib.tools.grading.sandbox import KERNEL_NAME, Limits, box_command, kernel_env
from cvlib.tools.grading.sandbox import main as sandbox_main

pytestmark = pytest.mark.slow

PROCESSES = 64


def attack(name, body):
    """An answer cell that tries ``body`` (Python lines), reports, then answers honestly."""
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return (
        f"import os\ntry:\n{lines}\n    print('INTRUSION {name}')\n"
        f"except Exception as error:\n    print('blocked {name}:', type(error).__name__)\n"
        + ANSWERS["output_size"]
    )


def hostile(course, secret, port):
    """student -> the source of its first answer; ``course`` is reached from the kernel's cwd,
    as an attacker would (``autograded/<student>/tiny`` is three levels down)."""
    up = "os.path.join(os.getcwd(), '..', '..', '..')"
    victim = f"os.path.join({up}, 'submitted', 'honest-a', '{ASSIGNMENT}', '{FILENAME}')"
    return {
        "read-solutions": attack(
            "read-solutions",
            f"text = open(os.path.join({up}, 'source', '{ASSIGNMENT}', '{FILENAME}')).read()\n"
            "assert 'BEGIN SOLUTION' in text",
        ),
        "write-other": attack("write-other", f"open({victim}, 'a').write('pwned')"),
        "write-gradebook": attack(
            "write-gradebook", f"open(os.path.join({up}, 'gradebook.db'), 'r+b').write(b'x' * 100)"
        ),
        "read-home": attack("read-home", f"assert open({str(secret)!r}).read() == 'top secret'"),
        "connect": attack(
            "connect",
            f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
            "s.sendall(b'pwned')",
        ),
        "user-namespace": attack(  # a forked child: unshare refuses multithreaded processes
            "user-namespace",
            "import ctypes\npid = os.fork()\nif pid == 0:\n"
            "    os._exit(0 if ctypes.CDLL(None).unshare(0x10000000) == 0 else 1)\n"
            "assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0",
        ),
        "fork-bomb": (  # bounded: at most 2000 children, each gone after 20 s
            "import os, time\nchildren = 0\ntry:\n    for _ in range(2000):\n"
            "        if os.fork() == 0:\n            time.sleep(20)\n            os._exit(0)\n"
            "        children += 1\n    print('INTRUSION fork-bomb', children)\n"
            "except OSError as error:\n    print('blocked fork-bomb after', children, 'children')\n"
            + ANSWERS["output_size"]
        ),
    }


class Listener:
    """A TCP listener on loopback that records every connection it accepts (for 60 s at most)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        for _ in range(120):
            if self._stop.is_set():
                break
            try:
                connection, address = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted.append(address)
            connection.close()

    def close(self):
        self._stop.set()
        self.thread.join()
        self.sock.close()


def outputs(course, student):
    path = course / "autograded" / student / ASSIGNMENT / FILENAME
    notebook = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_class(tmp_path, name, students):
    course = make_tiny_course(tmp_path / name, checks="plain")
    secret = tmp_path / "home" / "secret.txt"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text("top secret")
    listener = Listener()
    attacks = hostile(course, secret, listener.port)
    for student in ("honest-a", "honest-b"):
        submit(course, student)
    for student in students:
        submit(course, student, {"output_size": attacks[student]})
    return course, listener


def test_every_intrusion_fails_and_the_victims_are_graded_in_full(sandbox, tmp_path):
    names = list(hostile(tmp_path, tmp_path, 0))
    course, listener = make_class(tmp_path, "course", names)
    victims = sorted((course / "submitted").glob(f"honest-*/{ASSIGNMENT}/*"))
    before = {path: digest(path) for path in victims}
    source = digest(course / "source" / ASSIGNMENT / FILENAME)
    try:
        outcomes = autograde_class(
            course, ASSIGNMENT, limits=Limits(processes=PROCESSES), progress=False
        )
    finally:
        listener.close()
    print(f"\n{summary(outcomes)}")
    by = {o.student: o for o in outcomes}
    assert listener.accepted == [], "a boxed kernel reached the loopback listener"
    assert {path: digest(path) for path in victims} == before
    assert digest(course / "source" / ASSIGNMENT / FILENAME) == source
    for student in ("honest-a", "honest-b", *names):  # all graded, the attackers answer right
        assert by[student].status == "graded", by[student]
        if student != "fork-bomb":  # its sleeping children keep the box full: no new thread
            assert by[student].score == FULL, by[student]
    for name in names:
        text = outputs(course, name)
        assert f"blocked {name}" in text and "INTRUSION" not in text, text
    children = int(outputs(course, "fork-bomb").split("after")[1].split()[0])
    assert 0 < children < PROCESSES
    assert by["fork-bomb"].stopped_by == ["processes"], by["fork-bomb"]
    feedback = course / "autograded" / "fork-bomb" / ASSIGNMENT / FILENAME
    assert "processes limit" in feedback.read_text()
    nbgrader(course, "export", "--to", str(tmp_path / "grades.csv"))
    with open(tmp_path / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert rows == {student: by[student].score for student in by}
    assert set(rows) == {"honest-a", "honest-b", *names}


def test_the_same_intrusions_work_without_the_box(tmp_path):
    """The control: unboxed, the attacks succeed, so the test above can fail."""
    names = ["read-solutions", "write-other", "read-home", "connect", "user-namespace"]
    course, listener = make_class(tmp_path, "unboxed", names)
    try:
        autograde_class(course, ASSIGNMENT, progress=False, sandbox=False)
    finally:
        listener.close()
    assert len(listener.accepted) == 1
    for name in names:
        assert f"INTRUSION {name}" in outputs(course, name)
    victim = course / "submitted" / "honest-a" / ASSIGNMENT / FILENAME
    assert victim.read_text().endswith("pwned")


def test_nbgrader_autograde_by_hand_uses_the_same_box(sandbox, tmp_path, monkeypatch):
    prefix = tmp_path / "prefix"
    assert sandbox_main(["install", "--prefix", str(prefix), "--memory", "1024"]) == 0
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    course = make_tiny_course(tmp_path / "course", checks="plain")
    with open(course / "nbgrader_config.py", "a") as config:  # what the guide says to add
        config.write(f"c.Execute.kernel_name = {KERNEL_NAME!r}\n")
    attacks = hostile(course, tmp_path / "secret.txt", 9)
    submit(course, "read-solutions", {"output_size": attacks["read-solutions"]})
    nbgrader(course, "autograde", ASSIGNMENT)
    text = outputs(course, "read-solutions")
    assert "blocked read-solutions" in text and "INTRUSION" not in text, text


def test_kernels_killed_by_their_limits_are_reported_and_told(sandbox, tmp_path):
    """CPU time and memory past the MemoryError: the box is killed, the student is told."""
    course = make_tiny_course(tmp_path / "course", checks="plain", timeout=30)
    submit(course, "honest")
    burn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    submit(course, "burner", {"zero_pad": burn})
    hog = (  # swallows the MemoryError of the limit and goes on
        "hog = []\nwhile True:\n    try:\n        hog.append(np.ones(10**7))\n"
        "    except MemoryError:\n        pass"
    )
    submit(course, "hog", {"zero_pad": hog})
    limits = Limits(memory_mb=512, cpu_seconds=8)
    outcomes = {o.student: o for o in autograde_class(course, ASSIGNMENT, limits=limits)}
    print(summary(list(outcomes.values())))
    assert outcomes["honest"].status == "graded" and outcomes["honest"].score == FULL
    for student, limit, says in [
        ("burner", "cpu time", "8 s of CPU time"),
        ("hog", "memory", "over the 512 MB limit: kernel killed"),
    ]:
        outcome = outcomes[student]
        assert outcome.status == "failed" and outcome.stopped_by == [limit], outcome
        assert says in outcome.message, outcome
        (page,) = (course / "feedback" / student / ASSIGNMENT).glob("*.html")
        assert f"{limit} limit" in page.read_text()


NOT_GRADED = {  # student -> what their feedback must say of why nothing was graded
    "exits": "the kernel exited with code 3",
    "killed": "the kernel was killed by signal 9",
    "not-json": "NotJSONError",
    "linked": "a symbolic link",
}


def not_graded_class(course):
    """An honest student, two answers that end the kernel's process, a notebook that is not
    JSON and one that is a link (nothing of it enters the box)."""
    submit(course, "honest")
    submit(course, "exits", {"zero_pad": "import os\nos._exit(3)"})
    submit(course, "killed", {"zero_pad": "import os\nos.kill(os.getpid(), 9)"})
    submit(course, "not-json")
    broken = course / "submitted" / "not-json" / ASSIGNMENT / FILENAME
    broken.write_text(broken.read_text()[:200])
    submit(course, "linked")
    linked = course / "submitted" / "linked" / ASSIGNMENT / FILENAME
    linked.unlink()
    linked.symlink_to(course / "release" / ASSIGNMENT / FILENAME)


def test_submissions_that_could_not_be_graded_are_told_and_kept_in_the_gradebook(sandbox, tmp_path):
    """Whatever stopped a submission, its student gets a feedback page that says what, and the
    instructor finds it in formgrader's lists and in the gradebook: every test at 0, flagged."""
    from nbgrader.api import Gradebook

    from cvlib.tools.grading.nbgrader_driver import nbgrader_api

    course = make_tiny_course(tmp_path / "course", checks="plain", timeout=30)
    not_graded_class(course)
    outcomes = {o.student: o for o in autograde_class(course, ASSIGNMENT, progress=False)}
    print(summary(list(outcomes.values())))
    assert outcomes["honest"].status == "graded" and outcomes["honest"].score == FULL
    for student, says in NOT_GRADED.items():
        assert outcomes[student].status in ("failed", "refused"), outcomes[student]
        (page,) = (course / "feedback" / student / ASSIGNMENT).glob("*.html")
        assert "not graded" in page.read_text() and says in page.read_text(), student

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # nbgrader's own API
        assert {s.student_id for s in gb.assignment_submissions(ASSIGNMENT)} == {
            "honest",
            *NOT_GRADED,
        }
        for student in ["honest", *NOT_GRADED]:
            (notebook,) = gb.find_submission(ASSIGNMENT, student).notebooks
            grades = {g.name: g for g in notebook.grades}
            assert set(grades) == set(POINTS)
            if student == "honest":
                assert not notebook.flagged and notebook.score == FULL
                continue
            assert notebook.flagged and notebook.score == 0, student
            assert all(g.auto_score == 0 and g.needs_manual_grade for g in grades.values())
    api = nbgrader_api(course, sandbox=False)  # what formgrader's pages list
    listed = {s["student"]: s for s in api.get_submissions(ASSIGNMENT)}
    assert set(listed) == {"honest", *NOT_GRADED}
    assert all(s["autograded"] for s in listed.values()), listed
    assert all(listed[s]["needs_manual_grade"] for s in NOT_GRADED)
    readable = {s["student"] for s in api.get_notebook_submissions(ASSIGNMENT, "tiny")}
    assert readable == {"honest", "exits", "killed"}  # those with a notebook to read

    nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    for student, says in NOT_GRADED.items():  # nbgrader's own page, or the grader's
        (page,) = (course / "feedback" / student / ASSIGNMENT).glob("*.html")
        assert says in page.read_text(), student
    exits = (course / "feedback" / "exits" / ASSIGNMENT / "tiny.html").read_text()
    assert "Not graded." in exits and "Score: 0.0 / 4.0" in exits


def test_box_command_shows_nothing_of_the_course_but_the_working_copy(sandbox, tmp_path):
    workdir = tmp_path / "course" / "autograded" / "alice" / ASSIGNMENT
    command = box_command(["python"], workdir, tmp_path / "box", Limits())
    binds = [command[i + 1] for i, a in enumerate(command) if a in ("--bind", "--ro-bind")]
    assert not any(b.startswith(str(tmp_path / "course")) for b in binds if b != str(workdir))
    assert [command[i + 1] for i, a in enumerate(command) if a == "--bind"] == [
        str(tmp_path / "box"),
        str(workdir),
    ]
    assert "--unshare-net" in command and "--clearenv" in command
    env = kernel_env({"CVLIB_X": "1", "PGPASSWORD": "secret", "HOME": "/root"}, Limits())
    assert "PGPASSWORD" not in env and env["HOME"] == "/tmp" and env["CVLIB_X"] == "1"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"memory_mb": -1}, ValueError), ({"processes": 2.5}, TypeError)],
)
def test_limits_are_checked(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        Limits(**kwargs)


def test_sqlite_gradebook_refuses_parallel_writers(tmp_path):
    course = tmp_path / "course"
    with pytest.raises(ValueError, match="jobs"):
        autograde_class(course, ASSIGNMENT, jobs=2)
    assert not os.path.exists(course / "gradebook.db")


def test_without_bubblewrap_the_class_grader_refuses_and_says_why(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on it
    assert autograde_main([ASSIGNMENT, "--course", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "apt-get install bubblewrap" in error and "--no-sandbox" in error
    assert not (tmp_path / "gradebook.db").exists()  # nothing was touched


def test_the_held_out_seed_never_reaches_a_kernel():
    env = kernel_env(
        {"CVLIB_HELDOUT_SEED": "31337", "CVLIB_OTHER": "1", "OMP_NUM_THREADS": "2"}, Limits()
    )
    assert "CVLIB_HELDOUT_SEED" not in env and env["CVLIB_OTHER"] == "1"


def test_masked_modules_are_absent_from_the_box_by_every_route(sandbox):
    """What an assignment's answers may not use is not in their box: imported directly, through
    importlib, from its compiled cache or from a thread; what stays allowed still imports."""
    import subprocess
    import sys

    from cvlib.tools.grading.sandbox import make_box_dir, mask_paths, write_masks

    probe = (
        "import importlib, importlib.util, os, threading, sys, glob\n"
        "def attempt(name, fn):\n"
        "    try:\n        fn()\n        print('REACHED', name)\n"
        "    except Exception as error:\n        print('absent', name, type(error).__name__)\n"
        "attempt('torch', lambda: __import__('torch'))\n"
        "attempt('scipy.signal', lambda: importlib.import_module('scipy.signal'))\n"
        "attempt('cvlib.conv', lambda: importlib.import_module('cvlib.conv').conv2d)\n"
        "out = {}\n"
        "t = threading.Thread(target=lambda: attempt('thread cvlib.pool', "
        "lambda: importlib.import_module('cvlib.pool').max_pool2d))\n"
        "t.start(); t.join()\n"
        "import cvlib\n"
        "caches = glob.glob(os.path.join(cvlib.__path__[0], '__pycache__', 'conv*.pyc'))\n"
        "print('caches', len(caches))\n"
        "from cvlib import kernels\n"
        "print('allowed', kernels.kernel('sobel_x').shape)\n"
    )
    box_dir = make_box_dir()
    paths = mask_paths(["torch", "scipy", "cvlib"], ["cvlib.kernels"])
    command = box_command(
        [sys.executable, "-c", probe],
        box_dir,
        box_dir,
        Limits(),
        masks=write_masks(box_dir, paths),
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert "REACHED" not in result.stdout, result.stdout + result.stderr
    for name in ("torch", "scipy.signal", "cvlib.conv", "thread cvlib.pool"):
        assert f"absent {name}" in result.stdout, result.stdout + result.stderr
    assert "caches 0" in result.stdout and "allowed (3, 3)" in result.stdout, result.stdout


def test_the_boxs_tmp_is_bounded_by_its_memory(sandbox):
    import subprocess
    import sys

    from cvlib.tools.grading.sandbox import make_box_dir

    probe = (
        "try:\n    open('/tmp/fill', 'wb').write(b'\\0' * 200 * 2**20)\n    print('WROTE')\n"
        "except OSError as error:\n    print('full', error.errno)\n"
    )
    box_dir = make_box_dir()
    command = box_command([sys.executable, "-c", probe], box_dir, box_dir, Limits(memory_mb=64))
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert "full 28" in result.stdout, result.stdout + result.stderr  # ENOSPC at 64 MB


def test_a_masked_package_keeps_the_boxs_launcher():
    """Masking all of cvlib (assignments 4 and 5) must leave the file that starts the box."""
    from cvlib.tools.grading.sandbox import LAUNCHER, mask_paths

    masked = mask_paths(["cvlib", "torchvision"], ())
    assert not any(LAUNCHER == p or LAUNCHER.startswith(p + os.sep) for p in masked)
    assert any(p.endswith(os.path.join("cvlib", "conv.py")) for p in masked)
    assert any(p.endswith(os.path.join("cvlib", "grading")) for p in masked)
