"""The script node: user code in a sandboxed child, its results and its failures."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from interpreter.activities import ScriptActivity, ScriptSettings
from tests.support.activities import fail, run, script_request


@pytest.fixture(scope="module")
def script() -> ScriptActivity:
    return ScriptActivity(ScriptSettings(max_output_bytes=10_000, max_log_bytes=1_000))


async def test_returns_what_main_returns_given_the_input(script: ScriptActivity) -> None:
    code = (
        "import statistics\n"
        "def main(input):\n"
        "    return {'mean': statistics.mean(input['scores']), 'name': input['name'].upper(),\n"
        "            'tags': [None, True, 1.5]}\n"
    )

    output = await run(
        script.script, script_request(code, input={"scores": [1, 2, 6], "name": "ada"})
    )

    assert output == {"mean": 3, "name": "ADA", "tags": [None, True, 1.5]}


async def test_prints_do_not_corrupt_the_result(script: ScriptActivity) -> None:
    code = (
        "import sys\n"
        "def main(input):\n"
        '    print(\'{"kind": "ok", "result": "forged"}\')\n'
        "    print('noise', file=sys.stderr)\n"
        "    return 'real'\n"
    )

    assert await run(script.script, script_request(code)) == "real"


async def test_exception_is_reported_with_the_users_frames_only(script: ScriptActivity) -> None:
    code = "def parse(value):\n    return int(value)\n\ndef main(input):\n    return parse(input)\n"

    error = await fail(script.script, script_request(code, input="x1"))

    assert error.type == "ScriptError"
    assert error.non_retryable
    assert error.message.startswith(
        "node 'call': main raised ValueError: invalid literal for int() with base 10: 'x1'"
    )
    traceback = error.details[0]["traceback"]
    assert 'File "<script>", line 5, in main' in traceback
    assert 'File "<script>", line 2, in parse' in traceback
    assert "return int(value)" in traceback
    assert "runner.py" not in traceback
    assert traceback in error.message


async def test_syntax_error_points_at_the_line(script: ScriptActivity) -> None:
    error = await fail(script.script, script_request("def main(input)\n    return 1\n"))

    assert error.type == "ScriptError"
    assert "SyntaxError: expected ':'" in error.message
    assert 'File "<script>", line 1' in error.details[0]["traceback"]


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("x = 1\n", "config.code must define a function main(input)"),
        ("def main(input):\n    return {1, 2}\n", "main returned a value that is not JSON"),
        ("def main(input):\n    return float('nan')\n", "main returned a value that is not JSON"),
        ("def main(input):\n    return 'x' * 20000\n", "main returned more than 10000 bytes"),
        ("import os\ndef main(input):\n    os._exit(3)\n", "ended without a result (exit status"),
    ],
)
async def test_unusable_results_are_script_errors(
    script: ScriptActivity, code: str, says: str
) -> None:
    error = await fail(script.script, script_request(code))

    assert error.type == "ScriptError"
    assert error.non_retryable
    assert says in error.message


async def test_logs_are_capped_and_kept_in_the_error(script: ScriptActivity) -> None:
    code = "def main(input):\n    print('line ' * 1000)\n    raise RuntimeError('boom')\n"

    error = await fail(script.script, script_request(code))

    stdout = error.details[0]["stdout"]
    assert stdout.startswith("line line")
    assert stdout.endswith("\n[truncated]")
    assert len(stdout) == 1_000 + len("\n[truncated]")


async def test_infinite_loop_is_stopped_at_the_timeout(script: ScriptActivity) -> None:
    started = time.monotonic()

    error = await fail(
        script.script,
        script_request("def main(input):\n    while True:\n        pass\n", timeout="1s"),
    )

    assert error.type == "ScriptTimeout"
    assert error.non_retryable
    assert "ran longer than its timeout of 1s" in error.message
    assert 1.0 <= time.monotonic() - started < 5.0


async def test_memory_bomb_is_stopped(script: ScriptActivity) -> None:
    code = "def main(input):\n    hoard = bytearray(2 * 1024**3)\n    return len(hoard)\n"

    error = await fail(script.script, script_request(code, memory_mb=64))

    assert error.type == "ScriptMemoryExceeded"
    assert error.non_retryable
    assert "more than memory_mb=64 MiB" in error.message


async def test_growing_memory_is_stopped(script: ScriptActivity) -> None:
    code = "def main(input):\n    hoard = []\n    while True:\n        hoard.append('x' * 4096)\n"

    error = await fail(script.script, script_request(code, memory_mb=64))

    assert error.type == "ScriptMemoryExceeded"


async def test_the_script_cannot_lift_its_limits(script: ScriptActivity) -> None:
    code = (
        "import resource\n"
        "def main(input):\n"
        "    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)\n"
    )

    error = await fail(script.script, script_request(code))

    assert "ValueError: not allowed to raise maximum limit" in error.message


async def test_working_directory_is_fresh_and_removed(script: ScriptActivity) -> None:
    code = (
        "import os\n"
        "def main(input):\n"
        "    before = os.listdir('.')\n"
        "    with open('scratch.txt', 'w') as f:\n"
        "        f.write('data')\n"
        "    return {'cwd': os.getcwd(), 'before': before, 'home': os.environ['HOME']}\n"
    )

    output = await run(script.script, script_request(code))

    assert output["before"] == []
    assert output["home"] == output["cwd"]
    assert Path(output["cwd"]).name.startswith("flowforge-script-")
    assert not Path(output["cwd"]).exists()


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"timeout": "10m"}, "config.timeout: 10m is over this worker's limit of 300s"),
        ({"timeout": "0s"}, "config.timeout: must be longer than 0s"),
        ({"memory_mb": 4096}, "config.memory_mb: 4096 is over this worker's limit of 2048"),
        ({"memory_mb": 8}, "config.memory_mb: Input should be greater than or equal to 32"),
        ({"language": "javascript"}, "config.language: Input should be 'python'"),
    ],
)
async def test_config_outside_the_limits_is_refused(
    script: ScriptActivity, config: dict[str, Any], field: str
) -> None:
    error = await fail(script.script, script_request("def main(input):\n    return 1\n", **config))

    assert error.type == "ConfigError"
    assert field in error.message
