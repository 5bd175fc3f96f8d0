"""The course's JupyterHub (deploy/hub) runs a class: an instructor and two students, end to end.

The hub is set up as ``deploy/hub/setup.sh`` does (``hub_helpers.Hub``: the same
``configure.py`` steps, local Unix users, the deployment's ``jupyterhub_config.py``) and started
as root on loopback with configurable-http-proxy from npm (``make hub-proxy``). Everything then
goes through the hub's REST API with each user's own token, as the JupyterLab pages do: the
instructor's formgrader API (generate, release, collect, a manual grade, feedback), the students'
*Assignments* API (fetch, validate, submit, fetch feedback) and Jupyter's contents API (the
answers). Two steps are what the instructor types in a terminal of their server: the class
grader (``python -m cvlib.tools.grading.autograde_class``, every kernel boxed) and the
exports (``nbgrader export``, ``python -m cvlib.tools.grading.lms_export``). Then headless
Chromium logs each user in with their password and checks what each one reaches; it saves
screenshots of the instructor's formgrader and of a student's feedback in ``_build/hub/``.

Needs root (users, the hub), bubblewrap, chromium and the proxy: without one of them the module
is skipped with a message, except under ``CVLIB_REQUIRE_HUB=1`` (CI), where that is a failure.
Every process it started is stopped, and the users are removed with their homes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from hub_helpers import BASE_PYTHON, PROXY, ROOT, Hub, notebook_json
from site_helpers import CHROMIUM_ARGS

from cvlib.tools.grading import demo

pytestmark = pytest.mark.slow

ASSIGNMENT = "a1_convolution"
INSTRUCTOR, ALICE, BOB = "cvt-teacher", "cvt-alice", "cvt-bob"
NOTEBOOK = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
SHOTS = ROOT / "_build" / "hub"


def missing():
    """Why this machine cannot run the hub, or None."""
    if os.geteuid() != 0:
        return "the hub test makes Unix users and runs JupyterHub as root: run it as root"
    for tool in ("useradd", "userdel", "chpasswd", "runuser", "bwrap", "chromium", "node"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (.ci/run installs what the hub test needs)"
    if not PROXY.exists():
        return f"no {PROXY.relative_to(ROOT)}: run `make hub-proxy` (npm)"
    if not Path(BASE_PYTHON).exists():
        return f"no {BASE_PYTHON} (Debian's python3.11) for the hub's environment"
    return None


@pytest.fixture(scope="module")
def hub():
    reason = missing()
    if reason:
        if os.environ.get("CVLIB_REQUIRE_HUB") == "1":
            pytest.fail(reason + " (CVLIB_REQUIRE_HUB=1)", pytrace=False)
        pytest.skip(reason + " (set CVLIB_REQUIRE_HUB=1 to make this an error)")
    hub = Hub(INSTRUCTOR, [ALICE, BOB])
    try:
        hub.set_up()
        hub.start()
        hub.start_servers()
        yield hub
    finally:
        hub.stop()
        print("hub timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in hub.timings.items()))


def ok(response):
    assert response.status_code in (200, 201), (response.status_code, response.text[:2000])
    body = response.json() if response.text else {}
    if isinstance(body, dict) and "success" in body:
        assert body["success"], body
    return body


def formgrader(hub, method, path, **kwargs):
    return hub.server(method, INSTRUCTOR, f"formgrader/api/{path}", **kwargs)


def answer(hub, student, release_nb, source_nb, answers):
    """``student`` fills in the fetched notebook and saves it (Jupyter's contents API)."""
    notebook = demo.student_notebook(release_nb, source_nb, answers)
    model = {"type": "notebook", "format": "json", "content": notebook}
    ok(hub.server("put", student, f"api/contents/{NOTEBOOK}", json=model))


def timed(hub, name):
    class Timer:
        def __enter__(self):
            self.start = time.perf_counter()

        def __exit__(self, *exc):
            hub.timings[name] = time.perf_counter() - self.start

    return Timer()


@pytest.fixture(scope="module")
def graded(hub):
    """The whole term of one assignment on the hub; what the tests below look at."""
    course_id = {"course_id": "cnn-cv", "assignment_id": ASSIGNMENT}
    with timed(hub, "generate and release"):
        ok(formgrader(hub, "post", f"assignment/{ASSIGNMENT}/assign"))
        ok(formgrader(hub, "post", f"assignment/{ASSIGNMENT}/release"))
    written = {
        ALICE: f"Answer written by {ALICE}: each output pixel sees a 3x3 window.",
        BOB: f"Answer written by {BOB}: the kernel is shared across positions.",
    }
    source_nb = nbformat.read(hub.course / "solutions" / NOTEBOOK, as_version=4)
    validated = {}
    with timed(hub, "fetch, answer, validate, submit"):
        for student in (ALICE, BOB):
            listed = ok(hub.server("get", student, "assignments", params={"course_id": "cnn-cv"}))
            assert [a["assignment_id"] for a in listed["value"]] == [ASSIGNMENT]
            ok(hub.server("post", student, "assignments/fetch", data=course_id))
            release_nb = nbformat.from_dict(
                notebook_json(hub.server("get", student, f"api/contents/{NOTEBOOK}"))
            )
            answers = {
                "written_receptive_field": written[student],
                "written_weight_sharing": f"{student}: nearby pixels matter, filters are shared.",
            }
            if student == BOB:
                answers["conv2d_strided"] = None  # left as the stub: its test fails
            answer(hub, student, release_nb, source_nb, answers)
            response = hub.server("post", student, "assignments/validate", data={"path": NOTEBOOK})
            validated[student] = response.json()
            ok(hub.server("post", student, "assignments/submit", data=course_id))
    with timed(hub, "collect"):
        ok(formgrader(hub, "post", f"assignment/{ASSIGNMENT}/collect"))
    with timed(hub, "class grading (boxed)"):
        grading = hub.as_user(
            INSTRUCTOR,
            "python",
            "-m",
            "cvlib.tools.grading.autograde_class",
            ASSIGNMENT,
            cwd=hub.course,
        )
    with timed(hub, "manual grade, feedback"):
        submissions = ok(formgrader(hub, "get", f"submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}"))
        manual = {}
        for submission in submissions:
            query = {"submission_id": submission["id"]}
            grades = ok(formgrader(hub, "get", "grades", params=query))
            (grade,) = [g for g in grades if g["name"] == "written_receptive_field"]
            points = 2.0 if submission["student"] == ALICE else 1.0
            ok(formgrader(hub, "put", f"grade/{grade['id']}", json={"manual_score": points}))
            manual[submission["student"]] = points
        ok(formgrader(hub, "post", f"assignment/{ASSIGNMENT}/generate_feedback"))
        ok(formgrader(hub, "post", f"assignment/{ASSIGNMENT}/release_feedback"))
        feedback = {}
        for student in (ALICE, BOB):
            ok(hub.server("post", student, "assignments/fetch_feedback", data=course_id))
            listing = ok(hub.server("get", student, f"api/contents/{ASSIGNMENT}/feedback"))
            (stamp,) = [entry["name"] for entry in listing["content"]]
            path = f"{ASSIGNMENT}/feedback/{stamp}/{ASSIGNMENT}.html"
            page = ok(hub.server("get", student, f"api/contents/{path}", params={"type": "file"}))
            feedback[student] = (path, page["content"])
    with timed(hub, "export"):
        exported = hub.as_user(INSTRUCTOR, "nbgrader", "export", cwd=hub.course)
        lms = hub.as_user(
            INSTRUCTOR,
            "python",
            "-m",
            "cvlib.tools.grading.lms_export",
            "--to",
            "grades-canvas.csv",
            "--format",
            "canvas",
            cwd=hub.course,
        )
    return {
        "validated": validated,
        "grading": grading,
        "manual": manual,
        "feedback": feedback,
        "export": exported,
        "lms": lms,
        "written": written,
    }


def test_a_class_runs_through_the_hub(hub, graded):
    validated = graded["validated"]
    assert validated[ALICE]["success"], validated[ALICE]
    assert "conv2d_strided" in json.dumps(validated[BOB]), validated[BOB]

    grading = graded["grading"]
    assert grading.returncode == 0, grading.stdout + grading.stderr
    assert "2 of 2 submissions graded cleanly" in grading.stdout, grading.stdout

    course = hub.course
    export = graded["export"]
    assert export.returncode == 0, export.stdout + export.stderr
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert set(rows) == {ALICE, BOB}
    # autograded 15 + written 2 + 2 for alice; bob loses conv2d_strided (3) and gets 1 written
    assert float(rows[ALICE]["raw_score"]) == 15 + graded["manual"][ALICE]
    assert float(rows[BOB]["raw_score"]) == 15 - 3 + graded["manual"][BOB]
    assert float(rows[ALICE]["max_score"]) == 19

    lms = graded["lms"]
    assert lms.returncode == 0, lms.stdout + lms.stderr
    canvas = list(csv.reader(io.StringIO((course / "grades-canvas.csv").read_text())))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"], canvas[0]
    assert {row[2] for row in canvas[2:]} == {ALICE, BOB}

    for student, (_, page) in graded["feedback"].items():
        other = BOB if student == ALICE else ALICE
        assert graded["written"][student] in page and graded["written"][other] not in page
        assert "Rubric" not in page and "Model answer" not in page  # the source's, never shown
    print("hub timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in hub.timings.items()))


def login(browser, hub, user):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.passwords[user])
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/**", timeout=60_000)
    return page


def run_in_kernel(page, hub, user, code):
    """Run ``code`` in a new kernel of ``user``'s server from the page, as JupyterLab does."""
    return page.evaluate(
        """async ([base, code]) => {
            const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || "";
            const headers = {"X-XSRFToken": decodeURIComponent(xsrf)};
            const made = await fetch(base + "api/kernels", {method: "POST", headers});
            const kernel = await made.json();
            const ws = new WebSocket(base.replace(/^http/, "ws") + "api/kernels/" + kernel.id
                                     + "/channels");
            const id = "run-" + Math.random();
            const text = await new Promise((resolve, reject) => {
                let out = "";
                ws.onerror = () => reject("websocket error");
                ws.onmessage = (event) => {
                    const msg = JSON.parse(event.data);
                    if (msg.parent_header.msg_id !== id) return;
                    if (msg.msg_type === "stream") out += msg.content.text;
                    if (msg.msg_type === "error")
                        out += msg.content.ename + ": " + msg.content.evalue;
                    if (msg.msg_type === "status" && msg.content.execution_state === "idle")
                        resolve(out);
                };
                ws.onopen = () => ws.send(JSON.stringify({
                    header: {msg_id: id, msg_type: "execute_request", username: "", session: id,
                             version: "5.3", date: new Date().toISOString()},
                    parent_header: {}, metadata: {}, channel: "shell",
                    content: {code, silent: false, store_history: false, user_expressions: {},
                              allow_stdin: false, stop_on_error: true}}));
            });
            ws.close();
            await fetch(base + "api/kernels/" + kernel.id, {method: "DELETE", headers});
            return text;
        }""",
        [f"{hub.url}/user/{user}/", code],
    )


PROBE = """
import json, os, pathlib, cvlib
def reads(path):
    try:
        pathlib.Path(path).read_bytes() if os.path.isfile(path) else os.listdir(path)
        return True
    except OSError:
        return False
library = pathlib.Path(cvlib.__file__).resolve().parent
print(json.dumps({
    "instructor home": reads(%(home)r),
    "course folder": reads(%(course)r),
    "solutions": reads(%(solutions)r),
    "seed": reads(%(seed)r),
    "solutions beside cvlib": any((p / "solutions").exists() for p in library.parents),
    "other student": reads(%(other)r),
}))
"""


def test_each_user_reaches_only_their_own(hub, graded):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            page = login(browser, hub, INSTRUCTOR)
            page.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader")
            page.get_by_text(ASSIGNMENT).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(SHOTS / "instructor-formgrader.png"), full_page=True)
            assert "cnn-cv" in page.content() or ASSIGNMENT in page.content()

            page = login(browser, hub, ALICE)
            assert page.goto(f"{hub.url}/user/{ALICE}/formgrader").status == 404
            other = page.goto(f"{hub.url}/user/{BOB}/lab")
            assert other.status in (403, 404) or f"/user/{ALICE}/" not in page.url, page.url
            assert BOB not in page.url or "403" in page.content() or "Forbidden" in page.content()
            path, _ = graded["feedback"][ALICE]
            page.goto(f"{hub.url}/user/{ALICE}/files/{path}")
            text = page.inner_text("body")
            assert graded["written"][ALICE] in text and graded["written"][BOB] not in text
            page.screenshot(path=str(SHOTS / "student-feedback.png"), full_page=True)

            solutions = hub.course / "solutions" / NOTEBOOK
            probe = PROBE % {
                "home": str(hub.course.parent),
                "course": str(hub.course),
                "solutions": str(solutions),
                "seed": str(hub.course / ".heldout_seed"),
                "other": f"/home/{BOB}",
            }
            page.goto(f"{hub.url}/user/{ALICE}/lab")
            reached = json.loads(run_in_kernel(page, hub, ALICE, probe).strip().splitlines()[-1])
            assert not any(reached.values()), reached
        finally:
            browser.close()
