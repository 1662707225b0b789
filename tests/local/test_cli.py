"""local/cli.py: a mistake on a command line is one line naming the program and the mistake, and exit code 2."""

import pytest

from local.cli import OneLineParser


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--count"], "argument --count: expected one argument"),
        (["--count", "x"], "argument --count: invalid int value: 'x'"),
        (["--nope"], "unrecognized arguments: --nope"),
    ],
)
def test_a_mistake_is_one_line_and_exit_code_2(capsys, argv, message):
    parser = OneLineParser(prog="python -m thing")
    parser.add_argument("--count", type=int)
    with pytest.raises(SystemExit) as caught:
        parser.parse_args(argv)
    assert caught.value.code == 2
    assert capsys.readouterr().err == f"python -m thing: error: {message} (--help lists the options)\n"
