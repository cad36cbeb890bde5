"""Imports run one way (docs/design.md, "Architecture"), form no cycle, and sit at module top
level except where a module reaches a heavy optional library.

The layers, lowest first: a module may import its own layer and the layers below, never a
layer above. Within a layer the import graph has no cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "emoface"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("version", "errors", "paths", "files", "threads", "arkit", "emotion", "animation"),  # value types
    ("audio",),          # load, resample, features, prosody, phones
    ("speech",),         # pretrained speech model (Whisper): encoder features, transcripts
    ("text",),           # words in time, MiniLM word features
    ("rig",),            # meshes with blendshapes, the bundled head
    ("engines",),        # speech -> Animation: nonverbal, baselines, rules, neural, registry
    ("export",),         # file formats
    ("render",),         # rig -> frames -> mp4, plots
    ("outputs",),        # every format by extension; -o planning
    ("stream",),         # live: WebSocket server, live outputs
    ("capture",),        # video -> Animation
    ("data",),           # corpora
    ("train",),          # fits engines/neural
    ("eval",),           # measures everything
    ("pipeline", "demo", "diagnostics", "batch", "cluster", "cli", "__main__", "__init__"),  # the front door
)
# Optional libraries (extras) and slow-to-load ones: importing them only where used is the
# one reason an internal import may sit inside a function.
HEAVY = frozenset({"torch", "onnx", "onnxruntime", "safetensors", "moderngl", "pxr",
                   "pygltflib", "imageio_ffmpeg", "PIL", "matplotlib", "mediapipe",
                   "ctranslate2", "faster_whisper", "sentence_transformers", "dask",
                   "distributed", "websockets"})


class Module:
    def __init__(self, name: str, path: Path, is_package: bool):
        self.name, self.path, self.is_package = name, path, is_package
        self.tree = ast.parse(path.read_text(), str(path))


def modules(root: Path) -> dict[str, Module]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        out[name] = Module(name, path, is_package)
    return out


def _resolve(mod: Module, node: ast.ImportFrom | ast.Import, known: dict) -> list[str]:
    """Internal modules an import statement loads (``from pkg import sub`` names sub)."""
    top = next(iter(known)).split(".")[0]
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == top]
    if node.level:
        base = mod.name.split(".") if mod.is_package else mod.name.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != top:
        return []
    subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
    return subs or [target]


def _third_party(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name.split(".")[0] for a in node.names]
    return [] if node.level else [(node.module or "").split(".")[0]]


def _top_level(tree: ast.Module):
    """Import statements run when the module loads (including under if/try at top level)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try)):
            stack += node.body + node.orelse + getattr(node, "finalbody", [])
            for h in getattr(node, "handlers", []):
                stack += h.body


def _lazy(tree: ast.Module):
    top = {id(n) for n in _top_level(tree)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
            if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                yield node


def layer_of(name: str, layers=LAYERS) -> int:
    parts = name.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    for rank, group in enumerate(layers):
        if key in group:
            return rank
    raise AssertionError(f"{name}: in no layer; add it to LAYERS")


def check(root: Path, layers=LAYERS) -> list[str]:
    """Every violation in the package at ``root``: upward imports, cycles, and internal
    imports inside functions that do not lead to a heavy library."""
    mods = modules(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    problems = []
    for m in mods.values():
        for node in list(_top_level(m.tree)) + list(_lazy(m.tree)):
            for target in _resolve(m, node, mods):
                if target not in mods:
                    continue
                if layer_of(target, layers) > layer_of(m.name, layers):
                    problems.append(f"upward: {m.name} imports {target} (line {node.lineno})")
                if target != m.name:
                    graph[m.name].add(target)
    # Modules that load a heavy library when imported, directly or through their imports.
    heavy = {m.name for m in mods.values()
             if any(lib in HEAVY for n in _top_level(m.tree) for lib in _third_party(n))}
    top_graph = {m.name: {t for n in _top_level(m.tree) for t in _resolve(m, n, mods) if t in mods}
                 for m in mods.values()}
    changed = True
    while changed:
        changed = False
        for name, targets in top_graph.items():
            if name not in heavy and targets & heavy:
                heavy.add(name)
                changed = True
    for m in mods.values():
        for node in _lazy(m.tree):
            for target in _resolve(m, node, mods):
                if target in mods and target not in heavy:
                    problems.append(f"lazy: {m.name} imports {target} inside a function "
                                    f"(line {node.lineno}); it loads no heavy library")
    problems += [f"cycle: {' -> '.join(c)}" for c in _cycles(graph)]
    return problems


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_package_imports_one_way_without_cycles():
    problems = check(PACKAGE)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the checker itself
TOY_LAYERS = (("core",), ("engines",), ("cli", "__init__"))


def _toy(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "toy"
    for rel, text in {"__init__.py": "", "core.py": "X = 1\n", "engines/__init__.py": "",
                      "cli.py": "from .engines import run\n", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_clean_toy_package_passes(tmp_path):
    root = _toy(tmp_path, {"engines/run.py": "from ..core import X\nimport torch\n",
                           "engines/use.py": "def f():\n    from .run import X\n"})
    assert check(root, TOY_LAYERS) == []


@pytest.mark.parametrize("files, expected", [
    ({"core.py": "from .cli import main\n"}, "upward: toy.core imports toy.cli"),
    ({"core.py": "def f():\n    from .engines import run\n", "engines/run.py": ""},
     "upward: toy.core imports toy.engines.run"),
    ({"engines/a.py": "from . import b\n", "engines/b.py": "from . import a\n"},
     "cycle: toy.engines.a -> toy.engines.b"),
    ({"engines/a.py": "def f():\n    from ..core import X\n"},
     "lazy: toy.engines.a imports toy.core inside a function"),
])
def test_a_planted_violation_is_found(tmp_path, files, expected):
    problems = check(_toy(tmp_path, files), TOY_LAYERS)
    assert any(p.startswith(expected) for p in problems), problems
