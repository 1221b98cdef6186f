"""The optkern command end to end, in subprocesses: `optkern demo` (quick,
JSON, the digits MLP's accuracy bar, --data on good and broken files,
--plot with and without matplotlib), `optkern info`, --help. The bench
subcommand has its own module (test_cli_bench.py)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import require_module, run_optkern

def optkern_cmd(*args, block=(), cwd=None, timeout=300):
    """(exit status, stdout, stderr) of `optkern ARGS` (helpers.run_optkern)."""
    p = run_optkern(*args, blocked=block, cwd=cwd, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def assert_usage_error(result, *fragments):
    rc, out, err = result
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("optkern demo: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_quick_demo_and_json(tmp_path):
    path = tmp_path / "out.json"
    rc, out, err = optkern_cmd("demo", "--quick", "--json", str(path))
    assert rc == 0, err
    for part in ("1. Linear regression", "2. The same problem", "3. Handwritten digits", "every number:"):
        assert part in out
    data = json.loads(path.read_text())
    gd = data["regression"]
    assert len(gd["loss"]) == 1001 and gd["loss"][-1] < 1e-6
    np.testing.assert_allclose(gd["weights"], gd["true_weights"], atol=1e-3)
    assert abs(gd["bias"] - 10.0) < 1e-3
    assert {(r["optimizer"], r["schedule"].split()[0]) for r in data["minibatch"]} >= {
        ("SGD", "fixed"), ("SGD momentum", "fixed"), ("Adam", "fixed"), ("AdaGrad", "fixed"), ("RMSprop", "fixed"),
        ("SGD momentum", "exponential"), ("SGD momentum", "reduce")}
    assert {r["model"] for r in data["digits"]} == {"linear", "MLP"}
    for r in data["minibatch"] + data["digits"]:
        assert len(r["train_loss"]) == len(r["val_loss"]) == len(r["lr"]) > 0


def test_same_seed_same_numbers(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        assert optkern_cmd("demo", "--quick", "--only", "minibatch", "--seed", "3", "--json", str(path))[0] == 0
    runs_a, runs_b = json.loads(a.read_text())["minibatch"], json.loads(b.read_text())["minibatch"]
    assert [r["val_loss"] for r in runs_a] == [r["val_loss"] for r in runs_b]


def test_digits_mlp_reaches_95_percent_with_adam(tmp_path):
    path = tmp_path / "digits.json"
    rc, out, err = optkern_cmd("demo", "--only", "digits", "--json", str(path))
    assert rc == 0, err
    runs = json.loads(path.read_text())["digits"]
    adam = next(r for r in runs if r["model"] == "MLP" and r["optimizer"] == "Adam")
    assert adam["test_accuracy"] >= 0.95, adam["test_accuracy"]
    assert "MLP" in out and "test accuracy" in out


def test_plot(tmp_path):
    require_module("matplotlib")
    path = tmp_path / "curves.png"
    rc, out, err = optkern_cmd("demo", "--quick", "--only", "regression", "--plot", str(path))
    assert rc == 0, err
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib(tmp_path):
    result = optkern_cmd("demo", "--quick", "--plot", str(tmp_path / "x.png"), block=["matplotlib"])
    assert_usage_error(result, "needs matplotlib", "pip install matplotlib")
    assert result[1] == ""  # nothing was trained before the check


def write_csv(path, rows, header=None):
    with open(path, "w") as f:
        if header:
            f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(str(v) for v in row) + "\n")


def test_data_csv_classification_and_regression(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    classes = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    write_csv(tmp_path / "c.csv", np.column_stack([X, classes]).tolist(), header=["a", "b", "c", "label"])
    path = tmp_path / "c.json"
    rc, out, err = optkern_cmd("demo", "--quick", "--data", str(tmp_path / "c.csv"), "--json", str(path))
    assert rc == 0, err
    assert "200 samples x 3 features, classification, 3 classes" in out and "test accuracy" in out
    data = json.loads(path.read_text())["data"]
    assert data["task"] == "classification" and max(r["test_accuracy"] for r in data["runs"]) > 0.8

    y = X @ np.array([1.5, -2.0, 0.5]) + 3.0
    write_csv(tmp_path / "r.csv", np.column_stack([X, y]).tolist())
    rc, out, err = optkern_cmd("demo", "--quick", "--data", str(tmp_path / "r.csv"), "--json", str(path))
    assert rc == 0, err
    data = json.loads(path.read_text())["data"]
    assert data["task"] == "regression" and "test loss" in out
    assert min(r["test_loss"] for r in data["runs"]) < 0.05  # in units of the standardised target


def test_data_npz(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((150, 4)).astype(np.float32)
    np.savez(tmp_path / "d.npz", X=X, y=(X[:, 0] > 0).astype(np.int64))
    rc, out, err = optkern_cmd("demo", "--quick", "--data", str(tmp_path / "d.npz"))
    assert rc == 0, err
    assert "150 samples x 4 features, classification, 2 classes" in out
    np.savez(tmp_path / "one.npz", features=X[:, 0], y=X[:, 0] * 2.0)  # one other array, 1-D: one feature
    rc, out, err = optkern_cmd("demo", "--quick", "--data", str(tmp_path / "one.npz"), "--task", "regression")
    assert rc == 0, err
    assert "150 samples x 1 features, regression" in out


def test_data_errors(tmp_path):
    good = [[1, 2, 0], [3, 4, 1]] * 10

    def case(name, content=None, rows=None, header=None, npz=None):
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        elif rows is not None:
            write_csv(path, rows, header)
        elif npz is not None:
            np.savez(path, **npz)
        return str(path)

    assert_usage_error(optkern_cmd("demo", "--data", str(tmp_path / "missing.csv")), "no such file")
    assert_usage_error(optkern_cmd("demo", "--data", str(tmp_path)), "is a folder")
    assert_usage_error(optkern_cmd("demo", "--data", case("x.txt", b"1,2\n")), "expected a .csv or .npz file")
    assert_usage_error(optkern_cmd("demo", "--data", case("empty.csv", b"")), "has no data")
    assert_usage_error(optkern_cmd("demo", "--data", case("head.csv", b"a,b,y\n")), "header line and no data")
    assert_usage_error(optkern_cmd("demo", "--data", case("word.csv", rows=good + [[1, "seven", 0]],
                                                          header=["a", "b", "y"])),
                       "line 22, column 2 (b): 'seven' is not a number")
    assert_usage_error(optkern_cmd("demo", "--data", case("ragged.csv", rows=good + [[1, 2]])),
                       "line 21 has 2 columns, line 1 has 3")
    assert_usage_error(optkern_cmd("demo", "--data", case("one.csv", rows=[[1]] * 20)), "at least two")
    assert_usage_error(optkern_cmd("demo", "--data", case("few.csv", rows=good[:4])), "4 samples")
    assert_usage_error(optkern_cmd("demo", "--data", case("nan.csv", rows=good + [[1, "nan", 0]])),
                       "sample 20, feature 1 is nan")
    assert_usage_error(optkern_cmd("demo", "--data", case("bin.csv", content=bytes(range(256)) * 4)),
                       "not a text file")
    assert_usage_error(optkern_cmd("demo", "--data", case("bad.npz", content=b"not a zip")),
                       "not a readable .npz file")
    assert_usage_error(optkern_cmd("demo", "--data", case("noy.npz", npz={"X": np.ones((20, 2))})),
                       "no array named 'y'")
    assert_usage_error(optkern_cmd("demo", "--data", case("len.npz", npz={"X": np.ones((20, 2)), "y": np.ones(19)})),
                       "has 20 samples (rows) but 'y' has 19")
    assert_usage_error(optkern_cmd("demo", "--data", case("two.npz", npz={"a": np.ones((20, 2)), "b": np.ones(20),
                                                                          "y": np.ones(20)})),
                       "the array named 'X' or the only array")
    assert_usage_error(optkern_cmd("demo", "--data", case("str.npz", npz={"X": np.array(["a"] * 20), "y": np.ones(20)})),
                       "must hold numbers")
    assert_usage_error(optkern_cmd("demo", "--data", case("3d.npz", npz={"X": np.ones((20, 2, 2)), "y": np.ones(20)})),
                       "must be 2-D")
    assert_usage_error(optkern_cmd("demo", "--data", case("onec.csv", rows=[[1, 2, 5]] * 20)), "one class")
    assert_usage_error(optkern_cmd("demo", "--data", case("frac.csv", rows=[[1, 2, 0.5]] * 20), "--task",
                                   "classification"), "whole-number targets")
    assert_usage_error(optkern_cmd("demo", "--data", case("ok.csv", rows=good), "--only", "digits"), "--only")
    rc, _, err = optkern_cmd("demo", "--batch-size", "0")
    assert rc == 2 and "must be at least 1" in err and "Traceback" not in err


def test_help_and_info():
    for args in (["--help"], ["demo", "--help"], ["info", "--help"]):
        rc, out, err = optkern_cmd(*args)
        assert rc == 0 and "usage: optkern" in out and "example" in out, (args, err)
    rc, out, err = optkern_cmd("info")
    assert rc == 0, err
    for key in ("optkern:", "instruction set:", "threads:", "OpenMP:", "torch:", "cupy:", "matplotlib:"):
        assert key in out
    rc, out, _ = optkern_cmd("info", "--json")
    info = json.loads(out)
    assert info["isa"] in info["isas"] and set(info["optional"]) >= {"torch", "cupy", "matplotlib"}
    rc, _, err = optkern_cmd()
    assert rc == 2 and "required" in err
    rc, _, err = optkern_cmd("frobnicate")
    assert rc == 2 and "invalid choice" in err


def test_python_dash_m():
    p = subprocess.run([sys.executable, "-m", "optkern", "--version"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.startswith("optkern ")


def test_console_script():
    script = os.path.join(os.path.dirname(sys.executable), "optkern")
    if not os.path.exists(script):
        pytest.fail(f"the console script {script} is not installed next to {sys.executable}")
    p = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.startswith("optkern ")
