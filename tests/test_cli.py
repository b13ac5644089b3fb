"""econ.cli: `python -m econ cost`, as the README writes it.
"""


def test_command_line_answers_and_refuses_bad_names(capsys):
    from econ.cli import main
    assert main(["cost", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--gpus", "1",
                 "--usd-per-gpu-hour", "2", "--concurrency", "1,8"]) == 0
    out = capsys.readouterr().out
    assert "llama-3.1-8b fp8 on 1 x h100-sxm" in out and "$2 per GPU-hour" in out
    assert main(["cost", "--model", "no-such-model", "--hardware", "h100-sxm",
                 "--gpus", "1"]) == 2
    assert "no-such-model" in capsys.readouterr().err


def test_readme_cost_command_runs_as_written():
    import pathlib
    import re
    import shlex
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text()
    cmd = re.search(r"^\.venv/bin/python -m econ cost.*?(?<!\\)\n", text, re.S | re.M).group(0)
    args = shlex.split(cmd.replace("\\\n", " "))
    args[0] = sys.executable
    out = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "output_usd_per_mtok" in out.stdout and "$" in out.stdout
