"""The trusted checks of assignments 3 to 5 (issue 20): networks built in the box, verdicts here.

First, without a kernel: what the box builds (:mod:`cvlib.grading.box_torch`) and the answers'
stand-ins it runs (:mod:`cvlib.grading.box_references`) are cvlib's networks and functions, to the
last bit: the same state dicts, the same outputs, the same training step, the same random draws.

Then the class grader as an instructor runs it (real nbgrader, every kernel boxed), one course
per assignment: the solution keeps every automatic point, the blank version earns none, and a
submission whose training answer does not train but forges the verdict in its own kernel (a
``cvlib.grading`` whose checks always pass, served by the import system; an ``execute_result``
on the display; an accuracy it never earned, returned and printed; a submitted notebook showing
the test passed) earns nothing from that cell, keeps every other point (its other answers are
right), and is named in the summary for a person to read.
"""

import copy
import types

import nbformat
import pytest
import torch
from gradebook_helpers import sandbox as sandbox
from nbgrader.api import Gradebook
from nbgrader_submissions import FORGE
from torch import nn

from cvlib.augment import RandomCrop, functional
from cvlib.grading import box_torch
from cvlib.grading.a5_detection import reference_box_net
from cvlib.grading.box_helpers import references_source
from cvlib.models import LeNet5
from cvlib.models.course_cnn import CourseCNN
from cvlib.train.loop import train_one_epoch
from cvlib.train.transfer import load_pretrained, replace_head, unfreeze_last


def _stand_ins():
    """The answers' stand-ins as the box gets them (source, with cvlib's epoch before them)."""
    space = {"__name__": "box_references"}
    exec(compile(references_source(), "<box references>", "exec"), space)
    return types.SimpleNamespace(**space)


refs = _stand_ins()


@pytest.fixture(autouse=True)
def _threads():
    """box_torch.network puts torch on one thread (as in the box): give the others theirs back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize(
    "ours, theirs, shape",
    [
        (lambda: refs.LeNet(10), lambda: LeNet5(num_classes=10), (3, 1, 32, 32)),
        (lambda: refs.LeNet(3), lambda: LeNet5(num_classes=3), (3, 1, 32, 32)),
        (refs.BoxNet, reference_box_net, (3, 3, 32, 32)),
        (lambda: box_torch.CourseCNN(5), lambda: CourseCNN(num_classes=5), (3, 1, 28, 28)),
    ],
)
def test_the_boxs_networks_are_cvlibs_to_the_bit(ours, theirs, shape):
    torch.manual_seed(3)
    a = ours()
    torch.manual_seed(3)
    b = theirs()
    assert _same_state(a, b)  # same names, shapes and (same seed) initial weights
    x = torch.rand(*shape)
    assert torch.equal(a.eval()(x), b.eval()(x))


def test_a_network_sent_to_the_box_arrives_as_it_left():
    model = load_pretrained()  # the shipped weights, eval mode
    replace_head(model, 5)
    unfreeze_last(model, 3)
    trainable = {n: p.requires_grad for n, p in model.named_parameters()}
    copy_ = box_torch.network("course_cnn", model.state_dict(), trainable, model.training)
    assert _same_state(copy_, model) and copy_.training == model.training
    assert {n: p.requires_grad for n, p in copy_.named_parameters()} == trainable
    assert sum(trainable.values()) == 5 and not all(trainable.values())


def test_the_stand_in_epoch_and_evaluation_are_cvlibs():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(50, 1, 4, 4, generator=g), torch.randint(0, 3, (50,), generator=g)
    torch.manual_seed(0)
    a = box_torch.network("batchnorm", box_torch._tiny("batchnorm").state_dict(), None, False)
    b = copy.deepcopy(a)
    loader = box_torch.loader([x, y], 16)
    got = refs.train_one_epoch(a, loader, box_torch.sgd(a, 0.1, 0.9), nn.CrossEntropyLoss())
    opt = torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9)
    want, _ = train_one_epoch(b, loader, opt, nn.CrossEntropyLoss(), "cpu", progress=False)
    assert got == pytest.approx(want, rel=1e-12) and _same_state(a, b)
    accuracy = refs.evaluate(a, loader)
    assert accuracy == (a.eval()(x).argmax(1) == y).double().mean().item()


def test_the_stand_in_augmentations_and_transfer_are_cvlibs():
    g = torch.Generator().manual_seed(1)
    for shape, size, padding in [((1, 8, 8), 8, 2), ((3, 10, 7), 5, 0), ((2, 6, 9), 6, 3)]:
        img = torch.rand(*shape, generator=g)
        for draw in range(5):
            want = RandomCrop(size, padding=padding)(
                img, generator=torch.Generator().manual_seed(draw)
            )
            got = refs.random_crop(img, size, padding, torch.Generator().manual_seed(draw))
            assert torch.equal(got, want)
        assert torch.equal(refs.hflip(img), functional.hflip(img))
        for factor in (0.0, 0.5, 1.7):
            want = functional.adjust_brightness(img, factor)
            assert torch.allclose(refs.adjust_brightness(img, factor), want, atol=1e-7)
    for k, n in [(5, 1), (5, 3), (2, 5), (4, 7)]:
        torch.manual_seed(k)
        ours = refs.prepare_transfer(load_pretrained(), k, n)
        torch.manual_seed(k)
        theirs = replace_head(load_pretrained(), k)
        unfreeze_last(theirs, n)
        assert _same_state(ours, theirs)
        flags = [(n_, p.requires_grad) for n_, p in ours.named_parameters()]
        assert flags == [(n_, p.requires_grad) for n_, p in theirs.named_parameters()]


def test_the_box_counts_reads_and_backpropagated_images_and_traces_stages():
    data = box_torch.counted(torch.rand(10, 1, 32, 32), torch.zeros(10, dtype=torch.int64))
    model = refs.LeNet()
    counter = box_torch.backpropagated(model)
    for x, y in box_torch.loader(data, 4, True, 0):
        nn.functional.cross_entropy(model(x), y).backward()
    model(torch.rand(7, 1, 32, 32)).sum().backward()  # 7 images it never read
    assert box_torch.counts(counter, data) == (17, 10)
    out, steps = box_torch.trace(refs.LeNet().eval(), torch.rand(2, 1, 32, 32))
    assert out.shape == (2, 10) and ("conv2d", (6, 28, 28)) in steps
    assert [s for _, s in steps][-1] == (10,)


# --- the class grader, boxed -------------------------------------------------------------------
pytest_slow = pytest.mark.slow

# The training answer does not train; in the same cell it forges the verdict in its own kernel.
FORGED = (
    FORGE + "import sys\n"
    "def {function}(model, {data}, *args, **kwargs):\n"
    "    sys.displayhook(4)  # an execute_result: nbgrader's partial credit\n"
    "    print('accuracy 0.990 on held-out digits (needed: 0.90)')\n"
    "    print('the trained model: the visible tests pass.')\n"
    "    return 0.99\n"
)
CASES = {  # assignment -> (training answer, its test cell, the answer's function, its data)
    "a3_cnn": ("train_model", "test_trained_model", "train_lenet", "train_loader"),
    "a4_transfer": ("fine_tune", "test_fine_tune", "fine_tune", "train_set"),
    "a5_detection": ("train_model", "test_trained_model", "train_box_net", "train_loader"),
}


def _claims_to_pass(notebook, test):
    """The submitted notebook shows ``test`` passing (as a forged kernel would have run it)."""
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == test:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="passed\n")]
    return notebook


def _grade_class(course, name):
    from cvlib.tools.grading import demo
    from cvlib.tools.grading.autograde_class import autograde_class, summary
    from cvlib.tools.grading.nbgrader_driver import nbgrader

    answer, test, function, data = CASES[name]
    demo.make_course(course, [name])
    nbgrader(course, "generate_assignment", name, "--force")
    ((filename, rel),) = demo.notebooks_of(course, name, "release").items()
    src = demo.notebooks_of(course, name, "source")[filename]
    blanks = {
        c.metadata.nbgrader["grade_id"]: None
        for c in src.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    forged = {answer: FORGED.format(function=function, data=data)}
    notebooks = {
        "solution": demo.student_notebook(rel, src),
        "blank": demo.student_notebook(rel, src, blanks),
        "forger": _claims_to_pass(demo.student_notebook(rel, src, forged), test),
    }
    for student, notebook in notebooks.items():
        demo.submit(course, student, name, {filename: notebook})
    outcomes = autograde_class(course, name, progress=False)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {
            s.student_id: {g.name: g.score for nb in s.notebooks for g in nb.grades}
            for s in gb.assignment_submissions(name)
        }
    points = {
        c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"]
        for c in src.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    }
    autograded = course / "autograded" / "forger" / name / filename
    return {
        "scores": {s: {t: g[t] for t in points} for s, g in scores.items()},
        "points": points,
        "summary": summary(outcomes),
        "forger": nbformat.read(autograded, as_version=4),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox):
    root = tmp_path_factory.mktemp("trusted_torch")
    return {name: _grade_class(root / name, name) for name in CASES}


@pytest_slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_the_solution_keeps_every_point_and_the_blank_earns_none(graded, name):
    result = graded[name]
    assert result["scores"]["solution"] == result["points"], result["summary"]
    assert set(result["scores"]["blank"].values()) == {0}, result["scores"]["blank"]


@pytest_slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_forged_training_verdict_earns_nothing_and_is_named(graded, name):
    result = graded[name]
    _, test, _, _ = CASES[name]
    assert result["scores"]["forger"] == {**result["points"], test: 0}, result["summary"]
    assert "forger" in result["summary"] and test in result["summary"], result["summary"]
    for cell in result["forger"].cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") == test:
            kinds = [o.output_type for o in cell.outputs]
            assert "execute_result" not in kinds and "error" in kinds, cell.outputs
            # what the grader measured, on its own copy of the network: not the forged 0.990
            text = "".join(o.get("text", "") + o.get("evalue", "") for o in cell.outputs)
            assert "below" in text, text
