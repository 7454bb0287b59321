"""
The layout the README promises: boards/ in layers with no import cycles,
no product module over ~400 lines, no page module over ~300.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules():
    mods = {}
    for path in (ROOT / "boards").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


def _imports(mods):
    """Module → the boards modules it imports, at the top or inside functions."""
    graph = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in mods else base)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        # A package importing its own submodules (or a submodule its package) is not a cycle.
        graph[name] = {
            t for t in targets if t in mods and t != name and not t.startswith(name + ".") and not name.startswith(t + ".")
        }
    return graph


def test_the_boards_package_has_no_import_cycles():
    graph = _imports(_modules())
    state = {}
    cycles = []

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_no_product_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules().values() if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_no_page_module_is_over_about_300_lines():
    long = {
        p.name: n for p in (ROOT / "static" / "boards" / "js").glob("*.js") if (n := len(p.read_text().splitlines())) > 320
    }
    assert long == {}


def test_the_layers_are_where_the_readme_says():
    mods = _modules()
    assert {"boards.realtime.consumer", "boards.realtime.broadcast", "boards.realtime.presence"} <= set(mods)
    assert {"boards.tuning.daphne_speed", "boards.tuning.fastconsumer", "boards.tuning.layers"} <= set(mods)
    readme = (ROOT / "README.md").read_text()
    listed_by_folder = (".api.", ".management.")  # `api/` and `management/commands/` rows
    missing = [
        m for m, p in mods.items()
        if p.name not in {"__init__.py", "apps.py"} and not any(f in m for f in listed_by_folder) and p.name not in readme
    ]
    assert missing == []
