"""nbgrader configuration of the course (read by every `nbgrader` command run in this folder).

Layout: the instructor notebooks (with solutions and hidden tests) live in
``solutions/<assignment>/``; ``nbgrader generate_assignment <assignment>`` writes the student
version to ``release/<assignment>/`` (nbgrader's own folder, git-ignored: nbgrader deletes and
rewrites it). The committed, published student versions in ``assignments/<assignment>/`` are
written by ``make assignments`` (``python -m cvlib.tools.grading.release``) alone, never by
nbgrader.

Other tools (``cvlib.tools.grading.release``, ``cvlib.tools.grading.demo``, the tests) run
nbgrader (through ``cvlib.tools.grading.nbgrader_driver``) in a scratch course directory whose own
``nbgrader_config.py`` loads this file and then moves ``root``. See ``book/instructors.md`` for
the whole workflow.
"""

import os

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

# --- the course ----------------------------------------------------------------------------
c.CourseDirectory.course_id = "cnn-cv"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
# Not "assignments": `generate_assignment --force` deletes its release folder before it checks
# anything, and leaves it deleted when it then refuses (an assignment with submissions); the
# committed student versions must never be that folder.
c.CourseDirectory.release_directory = "release"
# submitted/, autograded/, feedback/ and gradebook.db keep nbgrader's default names (git-ignored).
# A large class points the gradebook at PostgreSQL instead of SQLite, for example:
# c.CourseDirectory.db_url = "postgresql+psycopg2://nbgrader@localhost/cnn_cv"
# (book/instructors.md, section 9: PostgreSQL gradebook and parallel autograding).

# nbgrader's exchange (release_assignment, fetch, submit, collect, feedback): a folder every user
# of the hub can write to (deploy/hub makes it). nbgrader 0.9's own default is
# /usr/local/share/nbgrader/exchange; the course names its folder here.
c.Exchange.root = "/srv/nbgrader/exchange"

# Files next to a notebook that are copied into the release (data, images). Nothing else.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.db"]

# --- what students receive -----------------------------------------------------------------
# An answer cell becomes this stub; calling an unanswered function raises, so its test fails.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.enforce_metadata = True
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"
# Student versions carry no outputs: students run them themselves.
c.ClearOutput.enabled = True

# --- executing notebooks (validate, autograde) ----------------------------------------------
# Each cell gets 120 s. Every graded cell of assignments 1-2 runs in well under a second with a
# correct answer. The longest cells are assignment 6's training run and its hidden test (which
# trains again with the graders' seed on 5,000 Fashion-MNIST photographs at 14x14 and scores
# 1,000 one at a time): about 4 s to train and 0.3 s to score each on one core of a quiet 2-core
# machine with numpy pinned to one BLAS thread (the notebook does that). The earlier recipe, half
# the training, took 17-28 s to train at load 6-8 on a machine 2.7 times slower, so count on up
# to a minute there. 120 s covers a student's slower (but vectorised) layers on a busy grading
# machine; an endless loop costs two minutes at most.
c.Execute.timeout = 120
# On timeout, interrupt the kernel (KeyboardInterrupt in the cell, which then scores 0) and go on
# with the next cell instead of abandoning the notebook.
c.Execute.interrupt_on_timeout = True
# A kernel that does not even start in 60 s is a broken environment, not a student error.
c.Execute.startup_timeout = 60
# A cell's last output may be large (a submission that prints 100 MB) and a grading machine
# busy: wait up to 30 s for it (nbclient's 4 s failed the whole notebook under load). What is kept
# of it is cut at 100,000 characters (cvlib.tools.grading.trusted_execute).
c.Execute.iopub_timeout = 30
# Never re-run a notebook: a second run would hide flaky or stateful answers.
c.Execute.execute_retries = 0
# Stop the kernel at once after the last cell: nothing a student left running survives grading.
c.Execute.shutdown_kernel = "immediate"

# --- every word of a message: nbgrader validate, the feedback page ---------------------------
# nbgrader's validator cuts every printed line at Validator.width - 3 characters (87): the hint and
# the line that repeats a failing test would be lost. The course's validator prints every line
# whole and keeps the width for the ===== rules (cvlib/tools/grading/nbgrader_validate.py says why).
from cvlib.tools.grading.nbgrader_validate import install as _full_messages  # noqa: E402

_full_messages()
# The feedback page wraps long lines of the outputs instead of hiding them behind a scroll bar
# (cvlib/tools/grading/nbgrader_feedback.py).
from cvlib.tools.grading.nbgrader_feedback import preprocessors as _feedback  # noqa: E402

c.GenerateFeedback.preprocessors = _feedback()

# --- collecting uploads downloaded from an LMS (nbgrader zip_collect) ----------------------
# Moodle-style names, renamed uploads included: jdoe_1001_assignsubmission_file_a1_convolution
# (1).ipynb -> submitted/jdoe/a1_convolution/a1_convolution.ipynb. Adapt to your LMS's naming
# (book/instructors.md, section 4).
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[a-z0-9]+)_[0-9]+_assignsubmission_file_"
    r"(?P<file_id>[a-z0-9_]+?)(?: \(\d+\)|-\d+)?\.ipynb$"
)
# A student who uploaded twice has two files that map to one notebook: keep the latest copy
# (the highest " (n)" or "-n"), where nbgrader's own collector aborts the whole collection.
c.ZipCollectApp.collector_plugin = "cvlib.tools.grading.lms_collect.LatestUploadCollector"

# --- the verdict, decided outside the student's kernel ---------------------------------------
# nbgrader's Execute, except that the test cells of the course's assignments run in nbgrader's
# own process against the student's answers in a second kernel where only the answers ran and
# the libraries they may not use do not exist (cvlib.tools.grading.trusted_execute,
# cvlib.grading.registry). The student's code can then give wrong answers, never a verdict.
c.Autograde.autograde_preprocessors = [
    "cvlib.tools.grading.trusted_execute.TrustedExecute",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# `nbgrader collect` copies links as links (nbgrader's follows them: a notebook linked to the
# solution arrived as the solution); the class grader then refuses them
# (cvlib.tools.grading.safe_collect).
c.ExchangeFactory.collect = "cvlib.tools.grading.safe_collect.SafeCollect"

# --- grading --------------------------------------------------------------------------------
# The notebooks' own metadata is the truth; a student who edits grade ids or points is caught.
c.Autograde.create_student = True
c.Validator.validate_all = False

# --- the held-out data of the hidden tests (assignments 3 to 5) -----------------------------
# Hidden tests score the trained networks on held-out images drawn with the graders' seed,
# $CVLIB_HELDOUT_SEED (see cvlib.grading.heldout; without it, a public default that keeps
# self-learners' runs reproducible). Grading for credit, write a private number into
# `.heldout_seed` next to this file (git-ignored) or export the variable before
# `nbgrader autograde`, and change it every term. The hidden tests read it in nbgrader's own
# process; the boxed kernels never see it (cvlib.tools.grading.sandbox.WITHHELD_ENV).
_seed_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".heldout_seed")
if "CVLIB_HELDOUT_SEED" not in os.environ and os.path.exists(_seed_file):
    with open(_seed_file) as _f:
        os.environ["CVLIB_HELDOUT_SEED"] = _f.read().strip()
