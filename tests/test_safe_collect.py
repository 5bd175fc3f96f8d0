"""``nbgrader collect`` with the course's configuration copies a submission's links as links
(cvlib.tools.grading.safe_collect), and the class grader's staging refuses them: a notebook
linked to the instructor's solution never becomes a graded copy of it."""

import pytest

from cvlib.tools.grading import demo
from cvlib.tools.grading.clean_submission import stage
from cvlib.tools.grading.nbgrader_driver import nbgrader

pytestmark = pytest.mark.slow

NAME = "a1_convolution"


def test_collect_keeps_links_as_links_and_grading_refuses_them(tmp_path):
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    demo.make_course(course, [NAME], **{"Exchange.root": str(exchange)})
    solution = course / "source" / NAME / f"{NAME}.ipynb"
    inbound = exchange / "cnn-cv" / "inbound" / f"alice+{NAME}+2025-01-01 12:00:00.000000 UTC+x1"
    inbound.mkdir(parents=True)
    (inbound / f"{NAME}.ipynb").symlink_to(solution)
    (inbound / "secret").symlink_to(course / "nbgrader_config.py")
    (inbound / "timestamp.txt").write_text("2025-01-01 12:00:00.000000 UTC\n")
    nbgrader(course, "collect", NAME)
    submitted = course / "submitted" / "alice" / NAME
    assert (submitted / f"{NAME}.ipynb").is_symlink()  # not a copy of the solution
    assert (submitted / "secret").is_symlink()
    refused = stage(submitted, tmp_path / "staged", NAME)
    assert any(line.startswith(f"{NAME}.ipynb: a symbolic link") for line in refused)
    assert not list((tmp_path / "staged").glob("*.ipynb"))
