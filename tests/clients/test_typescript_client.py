"""A TypeScript client drives the whole flow: openapi-typescript types from the served spec,
openapi-fetch calls, `tsc --strict`, Node. Generated into a temporary folder at test time."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest

from tests.clients.conftest import assert_no_warning, node_tools, run, token

FLOW = pathlib.Path(__file__).with_name("flow.ts")
TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noUncheckedIndexedAccess": True,
        "target": "es2022",
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "lib": ["es2022", "dom"],
        "outDir": "out",
    },
    "files": ["flow.ts", "schema.d.ts"],
}


@pytest.fixture(scope="module")
def compiled(served, tmp_path_factory) -> pathlib.Path:
    """The flow compiled against the types of the served spec."""
    server, _settings = served
    work = tmp_path_factory.mktemp("typescript-client")
    modules = node_tools()
    (work / "node_modules").symlink_to(modules, target_is_directory=True)
    (work / "package.json").write_text('{"type": "module"}')
    (work / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    shutil.copyfile(FLOW, work / "flow.ts")
    output = run(
        [
            modules / ".bin/openapi-typescript",
            f"{server.api_url}/openapi.json",
            "-o",
            "schema.d.ts",
        ],
        cwd=work,
    )
    assert_no_warning(output)
    run([modules / ".bin/tsc", "-p", "tsconfig.json"], cwd=work)
    return work / "out" / "flow.js"


@pytest.mark.slow(10)
def test_the_typed_client_drives_the_whole_flow(compiled, served):
    server, settings = served
    output = run(
        ["node", compiled], env={"SOLO_API_URL": server.api_url, "SOLO_TOKEN": token(settings)}
    )
    assert [line.removeprefix("ok ") for line in output.splitlines()] == [
        "create",
        "read with ETag",
        "diff with If-Match",
        "stale diff is the typed 412",
        "save-stream",
        "beacon at beacon_url changes nothing but last_seen_at",
        "snapshot and download",
        "snapshot link expires later",
        "latest, by rev, list",
        "list sessions",
        "export",
        "change feed",
        "restore of an unknown rev is the typed 422",
        "restore",
        "delete",
    ]
