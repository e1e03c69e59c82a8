"""`archs --input-shape`: parameter counts for the data's image shape, refusals as sentences."""

import json

import pytest

from workbench.cli import build_parser, main
from workbench.core.architectures import ARCHITECTURES, input_problem


def run_archs(capsys, *args):
    code = main(["archs", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_counts_follow_the_input_shape_and_name_refusals(capsys):
    code, out, _ = run_archs(capsys, "--input-shape", "16x16x1", "--classes", "10", "--json")
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out.splitlines()[-1])}
    assert set(rows) == set(ARCHITECTURES)
    assert all(row["input_shape"] == [16, 16, 1] for row in rows.values())
    assert rows["toy_resnet"]["params"] == 223_242 - 576 and rows["toy_resnet"]["refused"] is None
    for name in ("embedded_cnn", "all_conv", "simple_cnn"):
        assert rows[name]["params"] is None
        assert rows[name]["refused"] == input_problem(name, (16, 16, 1))


def test_default_shape_keeps_the_report_counts(capsys):
    code, out, _ = run_archs(capsys, "--json")
    rows = {row["name"]: row for row in json.loads(out.splitlines()[-1])}
    assert code == 0 and rows["simple_cnn"]["input_shape"] == [32, 32, 3]
    assert rows["simple_cnn"]["params"] == 258_762 and rows["embedded_cnn"]["params"] == 53_522
    assert not any(row["refused"] for row in rows.values())


def test_text_lists_the_shape_counts_and_the_sentence(capsys):
    code, out, _ = run_archs(capsys, "--input-shape", "28x28x1")
    assert code == 0
    assert out.splitlines()[0] == "Parameters for 28×28×1 images and 10 classes:"
    simple = next(line for line in out.splitlines() if line.startswith("simple_cnn "))
    assert "159,882" in simple
    code, out, _ = run_archs(capsys, "--input-shape", "20x20x3")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("simple_cnn "))
    assert "—" in lines[at] and lines[at + 1].strip() == input_problem("simple_cnn", (20, 20, 3))


@pytest.mark.parametrize("value, words", [("28x28", "HEIGHTxWIDTHxCHANNELS"), ("0x28x1", "positive whole numbers")])
def test_bad_input_shape_is_a_usage_error_in_one_sentence(capsys, value, words):
    code, out, err = run_archs(capsys, "--input-shape", value)
    assert code == 2 and out == ""
    assert err.startswith("error: --input-shape: ") and words in err and err.count("\n") == 1
    assert err.rstrip().endswith(".")


def test_every_archs_option_has_help():
    parser = build_parser()
    archs = next(a for a in parser._subparsers._group_actions if a.dest == "command").choices["archs"]
    options = [a for a in archs._actions if a.option_strings and a.dest != "help"]
    assert {a.dest for a in options} >= {"classes", "input_shape", "json"}
    assert all(a.help for a in options)
