"""The code keeps the shape the README's code map describes: no import cycle anywhere
(imports inside functions included), short functions, a small commitments root with one
subpackage per capability, tests that share helpers only through tests/ helper modules,
and jobs asked for by names Celery knows."""

import ast
from pathlib import Path

import grimp
from django.conf import settings

from commitments import jobs
from ksbb.celery import app

ROOT = Path(__file__).resolve().parent.parent
APPS = ("ksbb", "programs", "locations", "collaborators", "commitments", "api")
LONGEST_FUNCTION = 80


def _production_files():
    for app_name in (*APPS, "bench"):
        for path in sorted((ROOT / app_name).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    imported = sorted(graph.find_modules_directly_imported_by(successor))
                    work.append((successor, iter(imported)))
                    break
                if successor in on_stack:
                    low[module] = min(low[module], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycle_even_through_imports_inside_functions():
    graph = grimp.build_graph(*APPS)  # grimp reads every import statement, nested ones too
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_production_function_is_longer_than_80_lines():
    long = []
    for path in _production_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > LONGEST_FUNCTION:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert long == []


def test_commitments_root_holds_few_modules_and_the_rest_sit_in_capabilities():
    root_modules = sorted(p.name for p in (ROOT / "commitments").glob("*.py"))
    assert len(root_modules) <= 8, root_modules
    for capability in (
        "lifecycle",
        "needs",
        "figures",
        "reporting",
        "assistant",
        "notify",
        "housekeeping",
        "web",
    ):
        assert (ROOT / "commitments" / capability / "__init__.py").exists(), capability


def test_no_test_file_imports_another_test_file():
    borrowed = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                names = [alias.name for alias in node.names] if not module else [module]
                if any(name.split(".")[-1].startswith("test_") for name in names):
                    borrowed.append(f"{path.name}: {module or names}")
    assert borrowed == []


def test_every_scheduled_and_requested_job_is_a_registered_task():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    requested = {
        value for name, value in vars(jobs).items() if name.isupper() and isinstance(value, str)
    }
    assert requested, "the jobs module names its jobs"
    assert scheduled | requested <= set(app.tasks), (scheduled | requested) - set(app.tasks)
