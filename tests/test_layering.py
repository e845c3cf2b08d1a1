"""Import rules of docs/design.md: the container layer imports no backend; importing the package is cheap."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "src" / "tiffstream"

# package (relative to tiffstream) -> tiffstream modules it may import; errors/plan are open to all
ALLOWED = {
    "tiff": {"tiff", "source"},
    "source": set(),
    "region": set(),
    "codestream": {"tiff", "source", "region", "plain", "enums", "stream_format"},
    "stream_format": {"enums", "tiff"},
    "nvimgcodec09": {"__init__", "codestream", "enums"},
    "plain": {"source"},
    "codecs": {"codecs", "tiff"},
    "cpu": {"cpu", "codecs", "chunkio", "backends"},
    "image": {"enums"},
    "enums": set(),
    "params": {"color", "enums"},
    "backends": set(),
    "decoder": {
        "backends",
        "codestream",
        "cpu",
        "enums",
        "image",
        "metadata",
        "params",
        "source",
        "color",
        "gpu",
        "stream_format",
    },
    "metadata": {"enums"},
    "encoder": {"codestream", "enums", "image", "write"},
    "color": set(),
    "chunkio": set(),
    "gpu": {"gpu", "chunkio", "backends", "codecs"},  # JPEG frame headers; streams nvJPEG refuses
    "cli": {"__init__", "cli", "decoder", "demo", "write", "color", "tiff", "slide"},  # colours, tag enums, serve
    "write": {"write"},
    "samples": {"write"},
    "demo": {"demo", "samples"},
    "integrations": {"integrations", "reader", "decoder", "enums", "slide", "tiff", "__init__"},
    "distributed": {"integrations"},
    "reader": {"cpu", "tiff", "region", "source", "integrations", "levels"},
    "levels": {"cpu", "tiff"},
    "slide": {"slide", "reader", "color", "cpu", "tiff", "decoder", "enums"},  # patch batches on the GPU
}
OPEN_TO_ALL = {"errors", "plan"}


def _type_only(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (imports for type checkers only)."""
    return {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for child in ast.walk(node)
    }


def _imports(path: pathlib.Path) -> set[str]:
    """First component (below tiffstream) of every tiffstream module ``path`` imports."""
    tree = ast.parse(path.read_text())
    package = path.relative_to(SRC).parts
    type_only = _type_only(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[:-1])[: len(package) - node.level]
            parts = base + (node.module.split(".") if node.module else [])
            if parts:
                found.add(parts[0])
            elif package[:-1]:
                found.add(package[0])
            else:  # `from . import name` at the top level: the submodule, or the package itself
                names = {alias.name for alias in node.names}
                found.update(n if (SRC / n).exists() or (SRC / f"{n}.py").exists() else "__init__" for n in names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tiffstream"):
            found.add((node.module.split(".") + ["__init__"])[1])
    return found


def test_layers_import_only_what_they_may() -> None:
    for path in SRC.rglob("*.py"):
        layer = path.relative_to(SRC).parts[0].removesuffix(".py")
        if layer not in ALLOWED:
            continue
        illegal = _imports(path) - ALLOWED[layer] - OPEN_TO_ALL - {layer}
        assert not illegal, f"{path.relative_to(SRC)} imports {sorted(illegal)}"


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_imports(path: pathlib.Path, modules: set[str]) -> set[str]:
    """Every tiffstream module ``path`` imports when it runs (at the top or inside functions; imports only for
    type checkers excepted), by full name: ``from .x import y`` names the module ``x.y`` where there is one."""
    tree = ast.parse(path.read_text())
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    type_only = _type_only(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("tiffstream")):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found |= {f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("tiffstream")}
    return (found & modules) - {me}


def test_no_import_cycles() -> None:
    """No module imports, directly or through others, a module that imports it back (lazy imports count)."""
    paths = {_module_name(path): path for path in SRC.rglob("*.py")}
    graph = {name: _module_imports(path, set(paths)) for name, path in paths.items()}
    for start, imported in graph.items():
        seen, todo = set(), list(imported)
        while todo:
            name = todo.pop()
            assert name != start, f"{start} imports itself through {sorted(seen)}"
            if name not in seen:
                seen.add(name)
                todo += graph[name]


def test_import_is_cheap() -> None:
    code = (
        "import sys, threading, tiffstream; "
        "heavy = [m for m in ('cupy', 'dask', 'zarr', 'fsspec', 'tifffile', 'matplotlib') if m in sys.modules]; "
        "assert not heavy, heavy; assert threading.active_count() == 1"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_package_data_is_installed() -> None:
    """The installed package carries its non-Python files: the sample, the CUDA sources, the walkthrough."""
    from importlib.resources import files

    root = files("tiffstream")
    for name in (
        "data/sample_pyramid.ome.tif",
        "gpu/cuda/tiff.cu",
        "gpu/cuda/lzw.cu",
        "gpu/cuda/common.cuh",
        "demo/subifds_and_pagination.py",
        "py.typed",
    ):
        assert root.joinpath(name).is_file(), name
