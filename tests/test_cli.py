"""The command line's own behaviour (each subcommand is tested with its module)."""
import os
import subprocess
import sys


def test_closed_pipe_gives_no_traceback():
    # `fne-eval figures --json | head -0`: the reader is gone before anything is written
    read_end, write_end = os.pipe()
    os.close(read_end)
    cmd = [sys.executable, "-m", "fne_eval.cli.main", "figures", "--json"]
    p = subprocess.run(cmd, stdout=write_end, stderr=subprocess.PIPE, timeout=300)
    os.close(write_end)
    err = p.stderr.decode()
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert p.returncode == 1


def test_help_lists_the_contract_commands():
    out = subprocess.run([sys.executable, "-m", "fne_eval.cli.main", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for name in ("validate", "quality", "figures", "template", "export", "plan", "run"):
        assert name in out


def _modules_after(argv: list) -> set:
    """Run ``fne-eval ARGV`` in a fresh interpreter and return the modules it imported."""
    code = ("import sys\nfrom fne_eval.cli.main import main\n"
            "try:\n    main(" + repr(argv) + ")\nexcept SystemExit:\n    pass\n"
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    return set(p.stderr.split())


def test_help_and_version_load_neither_pandas_nor_the_bundle_reader():
    # `fne-eval --help` took ~1,9 s building the import parser from ingest.commands (pandera, pandas)
    # and looking the version up (importlib.metadata): none of it is needed to print the help
    for argv in (["--help"], ["import", "--help"], ["bundle", "init", "--help"]):
        mods = _modules_after(argv)
        assert "fne_eval.cli.main" in mods, argv
        assert not {"pandas", "pandera", "fne_eval.bundle", "fne_eval.ingest.commands",
                    "importlib.metadata"} & mods, (argv, {"pandas", "pandera", "importlib.metadata"} & mods)


def test_version_is_still_printed():
    p = subprocess.run([sys.executable, "-m", "fne_eval.cli.main", "--version"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0 and p.stdout.startswith("fne-eval ") and len(p.stdout.split()) == 2


def test_plan_does_not_load_the_executor():
    # checking a plan reads the plan and the bundle; the runner's executor (kernels, rendering, Dask) is not needed
    mods = _modules_after(["plan", "params/exemple-petit.yaml"])
    assert "fne_eval.cli.plan" in mods and "fne_eval.runner.plan" in mods
    assert "fne_eval.runner.execute" not in mods
