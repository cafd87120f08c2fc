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
