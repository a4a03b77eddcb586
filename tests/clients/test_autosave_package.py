"""The autosave client as a package: its Node unit tests (diff, merge, queue) pass, and
`npm pack` makes a tarball that installs into a fresh project, whose strict TypeScript
compiles against the package's .d.ts and runs in Node."""

from __future__ import annotations

import json

import pytest

from tests.clients.conftest import ROOT, autosave_building, built_autosave, node_tools, run

PACKAGE = ROOT / "clients" / "autosave"
CONSUMER = """\
import { diff, merge3, mergeText, openAutosave } from "solo-autosave";
import type { AutosaveSession, Status } from "solo-autosave";

const base = { назва: "Чернетка", блоки: ["Перший абзац"] };
const merged = merge3(base, { ...base, назва: "Моя" }, { ...base, блоки: ["Перший абзац!"] });
const text = mergeText("кіт", "рудий кіт", "кіт спить");
type Options = { apiUrl: string; getToken: () => string };
const opened: (options: Options) => Promise<AutosaveSession> = openAutosave;
const status: Status = { kind: "saved", pending: 0 };
const ops = diff(base, merged.state);
console.log(JSON.stringify({ merged, text, ops, status, opened: typeof opened }));
"""
TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "target": "es2022",
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "lib": ["es2022", "dom"],
        "skipLibCheck": False,
    },
    "files": ["consumer.ts"],
}


@pytest.mark.slow(5)
def test_the_node_unit_tests_pass():
    # `npm test` is the build, then this.
    output = run(["node", "--test", "test/"], cwd=built_autosave())
    assert "# fail 0" in output, output


@pytest.mark.slow(10)
def test_npm_pack_installs_into_a_fresh_project(tmp_path):
    with autosave_building():  # its `prepack` builds
        run(["npm", "pack", "--silent", "--pack-destination", tmp_path], cwd=PACKAGE)
    [tarball] = tmp_path.glob("solo-autosave-*.tgz")
    project = tmp_path / "fresh"
    project.mkdir()
    (project / "package.json").write_text('{"name": "fresh", "private": true, "type": "module"}')
    run(["npm", "install", "--offline", "--no-audit", "--no-fund", tarball], cwd=project)
    (project / "consumer.ts").write_text(CONSUMER)
    (project / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    run([node_tools() / ".bin/tsc", "-p", "tsconfig.json"], cwd=project)
    printed = json.loads(run(["node", "consumer.js"], cwd=project))
    assert printed == {
        "merged": {"state": {"назва": "Моя", "блоки": ["Перший абзац!"]}, "conflicts": []},
        "text": {"text": "рудий кіт спить", "conflict": False},
        "ops": [
            {"op": "replace", "path": "/назва", "value": "Моя"},
            {"op": "replace", "path": "/блоки/0", "value": "Перший абзац!"},
        ],
        "status": {"kind": "saved", "pending": 0},
        "opened": "function",
    }
    installed_files = sorted(
        path.name for path in (project / "node_modules" / "solo-autosave" / "dist").iterdir()
    )
    assert "index.d.ts" in installed_files
    assert "index.js" in installed_files
