"""Plugins: publish immutable versions, name them from script nodes, run the pinned one.

Through the real stack: the API on PostgreSQL, runs on the real Temporal dev
server and worker, each plugin's code in the worker's script sandbox.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import API, Actor, create_workflow, definition, run_becomes, start_run

SHOUT_V1 = "def main(input):\n    return {'said': input['text'].upper()}\n"
SHOUT_V11 = "def main(input):\n    return {'said': input['text'].upper() + '!'}\n"
SHOUT_V2 = "def main(input):\n    return {'said': input['text'].upper() + '!!', 'v': 2}\n"
TEXT_IN = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
SAID_OUT = {"type": "object", "required": ["said"], "properties": {"said": {"type": "string"}}}


async def _publish(http: httpx.AsyncClient, actor: Actor, **body: Any) -> httpx.Response:
    return await http.post(f"{API}/plugins", json=body, headers=actor.headers)


async def _shout(http: httpx.AsyncClient, actor: Actor, name: str) -> None:
    for version, code in (("1.0.0", SHOUT_V1), ("1.1.0", SHOUT_V11), ("2.0.0", SHOUT_V2)):
        response = await _publish(
            http, actor, name=name, version=version, code=code,
            input_schema=TEXT_IN, output_schema=SAID_OUT, description="Shouts the text.",
        )  # fmt: skip
        assert response.status_code == 201, response.text


def _calling(plugin: str, text: Any = "{{ input.text }}") -> dict[str, Any]:
    return definition(
        nodes=[
            {
                "id": "shout",
                "type": "script",
                "config": {"plugin": plugin, "input": {"text": text}},
            }
        ],
        output="{{ nodes.shout.output }}",
    )


async def test_versions_are_published_listed_and_immutable(
    http: httpx.AsyncClient, editor: Actor, other_editor: Actor
) -> None:
    await _shout(http, editor, "shout")
    listed = (await http.get(f"{API}/plugins", headers=editor.headers)).json()["items"]
    assert [(p["name"], p["latest"]) for p in listed] == [("shout", "2.0.0")]
    assert [v["version"] for v in listed[0]["versions"]] == ["2.0.0", "1.1.0", "1.0.0"]
    again = await _publish(http, editor, name="shout", version="1.0.0", code=SHOUT_V2)
    assert again.status_code == 409
    assert "immutable" in again.json()["detail"]
    one = await http.get(f"{API}/plugins/shout/versions/1.0.0", headers=editor.headers)
    assert one.status_code == 200
    assert (one.json()["code"], one.json()["input_schema"]) == (SHOUT_V1, TEXT_IN)
    # Owner-scoped: another user sees none of them, and may use the same name.
    assert (await http.get(f"{API}/plugins/shout", headers=other_editor.headers)).status_code == 404
    theirs = await _publish(http, other_editor, name="shout", version="1.0.0", code=SHOUT_V1)
    assert theirs.status_code == 201


async def test_bad_versions_code_and_schemas_are_named(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    response = await _publish(
        http, editor, name="bad", version="1.2", code="def run(input):\n    return 1\n",
        input_schema={"type": "nonsense"},
    )  # fmt: skip
    assert response.status_code == 422
    codes = {(e["path"], e["code"]) for e in response.json()["errors"]}
    assert ("/body/version", "bad_version") in codes
    assert ("/body/code", "bad_code") in codes
    assert any(path.startswith("/body/input_schema") for path, _ in codes)
    broken = await _publish(http, editor, name="bad", version="1.0.0", code="def main(:\n")
    assert broken.status_code == 422
    assert "line 1" in broken.json()["errors"][0]["message"]


async def test_references_are_checked_at_save(
    http: httpx.AsyncClient, editor: Actor, other_editor: Actor
) -> None:
    await _shout(http, editor, "shout")
    for plugin, code in (("nope@1.0.0", "unknown_plugin"), ("shout@^3", "unknown_plugin")):
        saved = await http.post(
            f"{API}/workflows", json={"definition": _calling(plugin)}, headers=editor.headers
        )
        assert saved.status_code == 422, plugin
        [error] = saved.json()["errors"]
        assert (error["path"], error["code"]) == ("/nodes/0/config/plugin", code)
    assert "1.1.0" in error["message"]  # the versions there are
    with_code = _calling("shout@1")
    with_code["nodes"][0]["config"]["code"] = SHOUT_V1
    saved = await http.post(
        f"{API}/workflows", json={"definition": with_code}, headers=editor.headers
    )
    assert [e["path"] for e in saved.json()["errors"]] == ["/nodes/0/config/code"]
    # Another user's plugin of that name is not theirs to run.
    theirs = await http.post(
        f"{API}/workflows", json={"definition": _calling("shout@1")}, headers=other_editor.headers
    )
    assert theirs.json()["errors"][0]["code"] == "unknown_plugin"


@pytest.mark.usefixtures("worker")
async def test_a_range_runs_its_newest_version_pinned_and_recorded(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    await _shout(http, editor, "shout")
    workflow = await create_workflow(http, editor, _calling("shout@^1.0"))
    run_id = await start_run(http, editor, workflow["id"], input={"text": "hi {{ x }}"})
    run = await run_becomes(http, editor, run_id, "succeeded")
    assert run["output"] == {"said": "HI {{ X }}!"}
    assert run["plugins"] == {"shout": "shout@1.1.0"}
    # Deprecated, 1.1.0 no longer answers the range; the next run takes 1.0.0.
    changed = await http.patch(
        f"{API}/plugins/shout/versions/1.1.0", json={"deprecated": True}, headers=editor.headers
    )
    assert changed.json()["deprecated_at"] is not None
    second = await start_run(http, editor, workflow["id"], input={"text": "yo"})
    run = await run_becomes(http, editor, second, "succeeded")
    assert (run["output"], run["plugins"]) == ({"said": "YO"}, {"shout": "shout@1.0.0"})


@pytest.mark.usefixtures("worker")
async def test_code_with_template_braces_runs_as_written(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    code = "def main(input):\n    return '{{ not a hole }}' + ' ' + input['text']\n"
    assert (
        await _publish(http, editor, name="braces", version="0.1.0", code=code)
    ).status_code == 201
    run_id = await start_run(
        http, editor, (await create_workflow(http, editor, _calling("braces@0.1")))["id"],
        input={"text": "ok"},
    )  # fmt: skip
    run = await run_becomes(http, editor, run_id, "succeeded")
    assert run["output"] == "{{ not a hole }} ok"


@pytest.mark.usefixtures("worker")
async def test_the_plugins_schemas_check_its_input_and_output(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    await _shout(http, editor, "shout")
    bad_in = await create_workflow(http, editor, _calling("shout@1.0.0", text="{{ 42 }}"))
    run = await run_becomes(http, editor, await start_run(http, editor, bad_in["id"]), "failed")
    [node] = run["nodes"]
    assert node["error"]["type"] == "ValidationFailed"
    assert "plugin shout@1.0.0 input is invalid" in node["error"]["message"]
    assert "/text" in node["error"]["message"]
    liar = "def main(input):\n    return {'said': 7}\n"
    assert (await _publish(http, editor, name="liar", version="1.0.0", code=liar,
                           output_schema=SAID_OUT)).status_code == 201  # fmt: skip
    lying = await create_workflow(http, editor, _calling("liar@1"))
    run = await run_becomes(
        http, editor, await start_run(http, editor, lying["id"], input={"text": "x"}), "failed"
    )
    assert "plugin liar@1.0.0 output is invalid" in run["nodes"][0]["error"]["message"]
