"""`optkern bench`, run as a user runs it (a subprocess) at tiny sizes: its
table, peers and columns with and without torch, --json, --plot, its help,
and one clear line for every bad value. Speed is never asserted."""

import json

import pytest

from helpers import require_module, run_optkern
from optkern.benchmark import report, timing
from optkern.benchmark.command import count
from optkern.cli import UsageError

TINY = ["--quick", "--size", "4K", "--rounds", "2", "--threads", "1"]

# A stand-in for deepspeed.ops.adam: DeepSpeedCPUAdam prints a build log
# on stdout as it is made, then fails to build or (working) is torch's Adam.
FAKE_DEEPSPEED = """
import importlib.machinery, types, torch

class DeepSpeedCPUAdam(torch.optim.Adam):
    def __init__(self, params, lr, weight_decay, adamw_mode):
        print("ninja: building cpu_adam", flush=True)
        if {fails!r}:
            raise RuntimeError("Ninja is required to load C++ extensions\\nsecond line")
        super().__init__(params, lr=lr, weight_decay=weight_decay, decoupled_weight_decay=adamw_mode)

for name in ("deepspeed", "deepspeed.ops", "deepspeed.ops.adam"):
    sys.modules[name] = types.ModuleType(name)
    sys.modules[name].__spec__ = importlib.machinery.ModuleSpec(name, None)
sys.modules["deepspeed.ops.adam"].DeepSpeedCPUAdam = DeepSpeedCPUAdam
"""

OPTIONAL_PEERS = ["torch", "jax", "optax", "deepspeed"]


def bench(*args, blocked=(), setup="", cwd=None):
    return run_optkern("bench", *args, blocked=blocked, setup=setup, cwd=cwd, timeout=120)


def table(out, first):
    """The rows of the table whose header starts with `first`, as
    {name: cells}, and its header line."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first + " "))
    rows = {}
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows[line.split("  ")[0]] = [c.strip() for c in line.split("  ") if c.strip()]
    return lines[start], rows


def check_numbers(row, peers):
    """A JSON row: positive times, one sample per round for every
    implementation, and the peers' times and speed-ups."""
    assert row["optkern_ms"] > 0 and len(row["times_ms"]["optkern"]) == 2
    assert set(row["peers"]) == set(peers), row["name"]
    for peer in peers:
        assert row["peers"][peer]["ms"] > 0 and row["peers"][peer]["speedup"] > 0
        assert len(row["times_ms"][peer]) == 2
    if row["bytes"]:
        assert row["gbps"] > 0 and 0 < row["of_roofline"] and row["roofline_ms"] > 0


def test_help():
    done = bench("--help")
    assert done.returncode == 0, done.stderr
    for word in ["--optimizers", "--size", "--tensors", "--threads", "--peers", "--json", "--plot", "--quick",
                 "examples:", "optkern bench --quick"]:
        assert word in done.stdout


def test_with_torch(tmp_path):
    require_module("torch")
    out = tmp_path / "bench.json"
    done = bench(*TINY, "--optimizers", "SGD,Adam", "--tensors", "1,3", "--losses", "mse_loss,cross_entropy",
                 "--classes", "64", "--peers", "torch", "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    header, rows = table(done.stdout, "optimizer")
    for column in ["size x tensors", "threads", "optkern ms", "GB/s", "roofline", "numpy ms (x)",
                   "torch for-loop ms (x)", "torch foreach ms (x)", "torch fused ms (x)"]:
        assert column in header
    assert "optax" not in header and "deepspeed" not in header  # not asked for
    assert set(rows) == {"SGD momentum", "Adam"}
    header, loss_rows = table(done.stdout, "loss")
    assert "numpy ms (x)" in header and "torch ms (x)" in header
    assert set(loss_rows) == {"mse_loss", "cross_entropy"}
    assert "torch 2" in done.stdout.splitlines()[0]  # the machine line names torch's version
    # one progress line per measurement: 2 optimizers x 2 tensor counts, 2 losses
    assert [line.split("]")[0] for line in done.stderr.splitlines() if line.startswith("[")] == [
        f"[{i}/6" for i in range(1, 7)]

    results = json.loads(out.read_text())
    assert results["rounds"] == 2 and results["command"].startswith("optkern bench --quick")
    assert results["machine"]["torch"]["threads"] >= 1 and results["machine"]["cpu"]
    torch_peers = ["torch for-loop", "torch foreach", "torch fused"]
    for row in results["rows"]:
        assert row["threads"] == 1 and row["size"] == 4096
        check_numbers(row, ["numpy", *torch_peers] if row["kind"] == "optimizer" else ["numpy", "torch"])
    adam = next(r for r in results["rows"] if r["name"] == "Adam" and r["tensors"] == 3)
    assert adam["bytes"] == 28 * 3 * 4096
    ce = next(r for r in results["rows"] if r["name"] == "cross_entropy")
    assert ce["shape"] == "64x64"
    assert rows["Adam"][1] == "4K x 3" and rows["Adam"][3] == report._ms(adam["optkern_ms"])  # the JSON's figure


def test_without_torch():
    """With no optional peer importable, the NumPy reference runs alone,
    and the header says what is missing and how to get it."""
    done = bench(*TINY, "--optimizers", "Adam,Muon", "--losses", "nll_loss", "--classes", "100",
                 blocked=OPTIONAL_PEERS)
    assert done.returncode == 0, done.stderr
    assert "torch not installed" in done.stdout.splitlines()[0]
    assert "not run: torch (not installed: pip install torch)" in done.stdout
    header, rows = table(done.stdout, "optimizer")
    assert "numpy ms (x)" in header and "torch" not in header
    assert rows["Adam"][1:3] == ["4K x 1", "1"]
    assert rows["Adam"][-1].endswith("x)")  # numpy's ms and speed-up
    assert rows["Muon"][1] == "64x64 x 1" and rows["Muon"][4:] == ["-", "-", "-"]  # no bandwidth, no NumPy Muon
    header, rows = table(done.stdout, "loss")
    assert list(rows) == ["nll_loss"] and rows["nll_loss"][1] == "40x100"


def test_json_to_stdout():
    done = bench(*TINY, "--optimizers", "SGD", "--losses", "none", "--json", "-", blocked=OPTIONAL_PEERS)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)  # the JSON alone: no table
    (row,) = results["rows"]
    assert row["name"] == "SGD momentum" and row["kind"] == "optimizer"
    check_numbers(row, ["numpy"])
    assert results["peers"]["numpy"]["version"]
    assert results["peers"]["torch"] == {"unavailable": "not installed: pip install torch"}


@pytest.mark.parametrize("fails", [True, False], ids=["build fails", "builds"])
def test_deepspeed_peer(fails):
    """DeepSpeedCPUAdam (a stand-in): a failed op build leaves the peer
    out with its reason and the run goes on; a working one is a column.
    Its build log goes to stderr, never into the table."""
    require_module("torch")
    done = bench(*TINY, "--optimizers", "Adam,SGD", "--losses", "none", "--peers", "deepspeed",
                 setup=FAKE_DEEPSPEED.format(fails=fails))
    assert done.returncode == 0, done.stderr
    assert "ninja: building" not in done.stdout and "ninja: building" in done.stderr
    header, rows = table(done.stdout, "optimizer")
    assert set(rows) == {"Adam", "SGD momentum"}
    if fails:
        reason = "DeepSpeedCPUAdam cannot run here: RuntimeError: Ninja is required to load C++ extensions"
        assert f"not run: deepspeed ({reason})" in done.stdout
        assert f"deepspeed left out: {reason}" in done.stderr
        assert "deepspeed" not in header and "second line" not in done.stdout
    else:
        assert "deepspeed ms (x)" in header
        assert rows["Adam"][-1].endswith("x)") and rows["SGD momentum"][-1] == "-"  # DeepSpeed has no SGD


def test_plot_without_matplotlib(tmp_path):
    done = bench(*TINY, "--plot", "speedups.png", blocked=["matplotlib"], cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "optkern bench: error: --plot needs matplotlib, which is not installed: pip install matplotlib"]
    assert done.stdout == "" and not (tmp_path / "speedups.png").exists()  # nothing measured


def test_plot(tmp_path):
    require_module("matplotlib")
    done = bench(*TINY, "--optimizers", "Adam", "--losses", "mse_loss", "--plot", "speedups.png",
                 blocked=["jax", "optax", "deepspeed"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "speedups.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_optax_peer():
    require_module("optax")  # CI installs it (.ci/run)
    done = bench(*TINY, "--optimizers", "Adam,Rprop,ASGD", "--losses", "cross_entropy", "--classes", "64",
                 "--peers", "optax")
    assert done.returncode == 0, done.stderr
    header, rows = table(done.stdout, "optimizer")
    assert "optax ms (x)" in header and rows["ASGD"][-1] == "-"  # optax has no ASGD
    assert rows["Adam"][-1].endswith("x)") and rows["Rprop"][-1].endswith("x)")
    header, rows = table(done.stdout, "loss")
    assert "optax ms (x)" in header and rows["cross_entropy"][-1].endswith("x)")


@pytest.mark.parametrize("args, message", [
    (["--optimizers", "Adamm"], "--optimizers: unknown name 'Adamm'; choose from"),
    (["--size", "0"], "--size: '0': must be at least 1"),
    (["--size", "16Q"], "--size: '16Q' is not a count (examples: 4096, 64K, 16M)"),
    (["--threads", "100000"], "--threads: 100000 is above optkern's cap of"),
    (["--tensors", "1,,2"], "--tensors: an empty name or value in '1,,2'"),
    (["--losses", "none,mse_loss"], "--losses: 'none' goes alone"),
    (["--optimizers", "none", "--losses", "none"], "nothing to measure"),
    (["--peers", "tensorflow"], "--peers: unknown peer 'tensorflow'; choose from numpy, torch,"),
    (["--peers", "torch"], "--peers torch: not installed: pip install torch"),
    (["--json", "no/such/folder/out.json"], "--json: no folder"),
])
def test_bad_values(args, message):
    """One line on stderr, exit status 2, nothing measured, no traceback."""
    done = bench(*args, blocked=OPTIONAL_PEERS)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("optkern bench: error: " + message), line
    assert done.stdout == ""


def test_count():
    assert [count(s, "--size") for s in ["4096", "64K", "64k", "1M", "1.5M", "2G", " 16M "]] == [
        4096, 1 << 16, 1 << 16, 1 << 20, 3 << 19, 2 << 30, 16 << 20]
    for bad in ["", "M", "1.5K3", "-1", "1e6", "0.1K"]:
        with pytest.raises(UsageError, match="--size"):
            count(bad, "--size")


@pytest.mark.parametrize("load, busy", [(0.2, False), (None, False), (64.0, True)])
def test_busy_machine_note(load, busy):
    """The table says when the machine was busy as the run began (load
    average above half the cores), and only then."""
    results = {"machine": timing.machine(), "rounds": 2, "load_before": load, "rows": [],
               "peers": {"numpy": {"version": "2"}, "torch": {"unavailable": "not installed: pip install torch"}}}
    results["machine"]["cores"] = 2
    shown = report.text(results)
    assert ("note: the machine was busy as this run began (load average 64.0 over 2 cores)" in shown) == busy
    assert "peers: numpy 2; not run: torch (not installed: pip install torch)" in shown


def test_reference_peer():
    """The optimizers beyond torch.optim against their reference packages
    (CI installs lion-pytorch, pytorch-optimizer and schedulefree); the
    schedule-free ones are stepped in train mode on both sides."""
    for module in ("lion_pytorch", "pytorch_optimizer", "schedulefree"):
        require_module(module)
    names = ["Lion", "Adan", "AdEMAMix", "ADOPT", "LAMB", "LARS", "SGDScheduleFree", "AdamWScheduleFree"]
    done = bench(*TINY, "--optimizers", ",".join(names), "--losses", "none", "--peers", "reference")
    assert done.returncode == 0, done.stderr
    header, rows = table(done.stdout, "optimizer")
    assert "reference ms (x)" in header and set(rows) == set(names)
    assert all(row[-1].endswith("x)") for row in rows.values())


def test_norm_passes_are_counted_in_the_bytes():
    from optkern.benchmark.optimizers import OPTIMIZERS

    # LAMB: 11 arrays per element (the global norm's read of g, the moments'
    # pass, the update's pass); LARS: 7 (the norms' read of p and g, SGD's pass)
    assert OPTIMIZERS["LAMB"].bytes_per_element == 44 and OPTIMIZERS["LARS"].bytes_per_element == 28
    assert OPTIMIZERS["Adam"].bytes_per_element == 28
