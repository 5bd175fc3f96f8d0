"""The tools of class grading: what an instructor runs between the solutions and the grades.

- releasing: :mod:`.release` (``make assignments``), :mod:`.demo` (``make demo``);
- driving nbgrader: :mod:`.nbgrader_driver` (the one way the course runs it), and the course's
  plug-ins to it, named in ``nbgrader_config.py``: :mod:`.trusted_execute`, :mod:`.safe_collect`,
  :mod:`.lms_collect`, :mod:`.nbgrader_validate`, :mod:`.nbgrader_feedback`;
- the box around every student kernel: :mod:`.sandbox`, :mod:`.sandbox_kernel`,
  :mod:`.box_launcher`, :mod:`.clean_submission`;
- grading a class: :mod:`.autograde_class` over :mod:`.grading_cluster`, each submission by
  :mod:`.grade_submission`, after :mod:`.preflight`; what could not be graded
  (:mod:`.not_graded`); the scores (:mod:`.scores`) and the LMS's CSV (:mod:`.lms_export`);
- trying it out: :mod:`.pgserver` (a scratch PostgreSQL gradebook), :mod:`.bench_grading`;
  whether assignment 3 could train on Fashion-MNIST within its budget: :mod:`.a3_fashion_budget`.

Not to be confused with :mod:`cvlib.grading`, the assignments' checks that run in the notebooks.
"""
