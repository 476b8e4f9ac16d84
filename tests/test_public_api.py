"""The public API: every name of every ``__all__`` resolves to a documented object,
the numpy core stays free of torch and matplotlib, the curve results share one
contract, ``to_dict()`` gives plain Python values, and every progress callback has one
type.

The modules are found with :func:`pkgutil.walk_packages` (an import error fails the walk
instead of hiding a package), and all of them are imported before any name is resolved:
importing a submodule sets an attribute of the same name on its package, which can
shadow a name the package exports lazily (``from ibkit.nn import vib_sweep`` must give
the function, never the module). Each name is resolved twice, with :func:`getattr` and
with ``from M import name``, and both must give one object: a documented class or
function, or a constant.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import textwrap
import types
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

import ibkit
from ibkit.ib import CurveResult, agglomerative_ib, gaussian_ib, ib_curve
from ibkit.measures import mutual_information


def _raise(name: str) -> None:
    raise ImportError(f"pkgutil.walk_packages could not import {name}")


MODULES = sorted(
    ["ibkit"]
    + [info.name for info in pkgutil.walk_packages(ibkit.__path__, "ibkit.", onerror=_raise)]
)


def is_private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split("."))


@pytest.fixture(scope="module")
def imported() -> dict[str, types.ModuleType]:
    """Every ibkit module, all imported before any name is looked up."""
    return {name: importlib.import_module(name) for name in MODULES}


def documentation_problem(obj: Any) -> str | None:
    """Why ``obj`` is not a documented public object, or None if it is one."""
    if isinstance(obj, types.ModuleType):
        return f"is the module {obj.__name__}, not an object defined in it"
    if not (inspect.isclass(obj) or inspect.isroutine(obj)):
        return None  # a constant: a number, a string, a table of names, the CLI app
    doc = inspect.getdoc(obj) or ""
    if dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
        doc = ""  # the signature dataclasses write when the class has no docstring
    if not doc.strip():
        return "has no docstring"
    home = sys.modules.get(getattr(obj, "__module__", ""))
    if home is not None and getattr(home, obj.__name__, None) is not obj:
        return f"is not the object {obj.__module__}.{obj.__name__}"
    return None


def resolution_problems(module: types.ModuleType) -> list[str]:
    """One line per name of ``module.__all__`` that does not resolve as it should."""
    problems = []
    lazy = getattr(module, "_EXPORTS", {})  # name -> defining submodule, for lazy packages
    for name in module.__all__:
        where = f"{module.__name__}.{name}"
        try:
            by_getattr = getattr(module, name)
            scope: dict[str, Any] = {}
            exec(f"from {module.__name__} import {name}", scope)
        except (AttributeError, ImportError) as exc:
            problems.append(f"{where} does not resolve: {exc}")
            continue
        if scope[name] is not by_getattr:
            problems.append(f"{where}: getattr and `from ... import` give different objects")
        why = documentation_problem(by_getattr)
        if why:
            problems.append(f"{where} {why}")
        if name in lazy:
            home = importlib.import_module(f"{module.__name__}.{lazy[name]}")
            if by_getattr is not getattr(home, name):
                problems.append(f"{where} is not {home.__name__}.{name}")
    return problems


def test_the_walk_finds_every_layer_of_the_package():
    for name in ("ibkit.ib.curve", "ibkit.measures", "ibkit.estimators.ksg", "ibkit.nn.plane"):
        assert name in MODULES
    assert len(MODULES) >= 40


@pytest.mark.parametrize("name", [m for m in MODULES if not is_private(m)])
def test_public_module_declares_all(name, imported):
    exported = getattr(imported[name], "__all__", None)
    assert exported is not None, f"{name} has no __all__; list its public names"
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    assert all(isinstance(n, str) for n in exported)


@pytest.mark.parametrize("name", MODULES)
def test_every_exported_name_resolves_to_a_documented_object(name, imported):
    module = imported[name]
    if not hasattr(module, "__all__"):  # public ones fail test_public_module_declares_all
        pytest.skip(f"{name} has no __all__")
    problems = resolution_problems(module)
    assert not problems, "\n".join(problems)


def test_a_lazily_exported_name_is_its_function(imported):
    from ibkit.nn import vib_sweep

    assert inspect.isfunction(vib_sweep)
    assert vib_sweep.__name__ == "vib_sweep"


def _loaded_after(statement: str, prefixes: tuple[str, ...]) -> list[str]:
    """Modules starting with ``prefixes`` that a fresh interpreter holds after ``statement``."""
    code = textwrap.dedent(
        f"""
        import sys
        {statement}
        found = [m for m in sys.modules for p in {prefixes!r} if m == p or m.startswith(p + ".")]
        print(" ".join(sorted(found)))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout.split()


def test_the_numpy_core_imports_neither_torch_nor_matplotlib():
    loaded = _loaded_after(
        "import ibkit, ibkit.ib, ibkit.measures, ibkit.estimators, ibkit.datasets, ibkit.plots",
        ("torch", "matplotlib"),
    )
    assert loaded == []


def test_plots_does_not_import_the_solvers():
    loaded = _loaded_after("import ibkit.plots", ("ibkit.ib.curve", "ibkit.ib.agglomerative"))
    assert loaded == []


# --------------------------------------------------------------------------- curve results

P_XY = np.array([[0.3, 0.05], [0.05, 0.2], [0.1, 0.3]])
RHO = 0.6

CURVES = {
    "IBCurve": (lambda: ib_curve(P_XY, [2.0, 5.0, 50.0], random_state=0), mutual_information(P_XY)),
    "AgglomerativeIBResult": (lambda: agglomerative_ib(P_XY), mutual_information(P_XY)),
    # jointly Gaussian scalars: I(X;Y) = -½ log2(1 - ρ²)
    "GaussianIBResult": (
        lambda: gaussian_ib([[1.0]], [[RHO]], [[1.0]], [1.0, 2.0, 10.0]),
        -0.5 * np.log2(1 - RHO**2),
    ),
}


def is_plain(value: Any) -> bool:
    """Whether ``value`` is built of Python numbers, strings, bools, None, lists and dicts."""
    if isinstance(value, list):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(type(k) is str and is_plain(v) for k, v in value.items())
    return value is None or type(value) in (int, float, str, bool)


@pytest.mark.parametrize("kind", CURVES)
def test_curve_results_share_one_contract(kind):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    from matplotlib.axes import Axes

    make, i_xy = CURVES[kind]
    result = make()
    assert type(result).__name__ == kind
    assert isinstance(result, CurveResult)
    assert_allclose(result.i_xy, i_xy, rtol=1e-12)
    assert result.units == "bits"

    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert {"i_xt", "i_ty", "units"} <= set(frame.columns)
    assert len(frame) == len(result.i_xt) and set(frame["units"]) == {"bits"}
    assert_allclose(frame["i_ty"].to_numpy(), result.i_ty, rtol=0, atol=0)

    d = result.to_dict()
    assert isinstance(d, dict) and d["units"] == "bits" and d["i_xy"] == result.i_xy
    bad = {name: type(v).__name__ for name, v in d.items() if not is_plain(v)}
    assert not bad, f"to_dict() holds values that are not plain Python: {bad}"
    assert not any(name.startswith("_") for name in d)
    assert json.loads(json.dumps(d))["i_ty"] == d["i_ty"]

    ax = result.plot()
    assert isinstance(ax, Axes) and "[bits]" in ax.get_xlabel()
    assert result.plot(ax=ax) is ax


def test_a_single_solution_to_dict_is_plain_python():
    from ibkit.ib import iterative_ib

    result = iterative_ib(P_XY, 5.0, random_state=0)
    d = result.to_dict()
    # the fields DESIGN.md lists for every solver's result, and the restarts' count
    assert set(d) == {
        "p_t_given_x", "p_t", "p_y_given_t", "beta", "alpha", "i_xt", "i_ty", "h_t",
        "objective", "units", "n_iter", "converged", "n_init_best",
    }  # fmt: skip
    bad = {name: type(v).__name__ for name, v in d.items() if not is_plain(v)}
    assert not bad, f"to_dict() holds values that are not plain Python: {bad}"
    assert json.loads(json.dumps(d)) == d
    assert_allclose(d["p_t_given_x"], result.p_t_given_x, rtol=0, atol=0)
    assert_allclose(d["i_ty"], result.i_ty, rtol=0, atol=0)


def _estimate():
    from ibkit import estimate_mi

    rng = np.random.default_rng(0)
    x = rng.standard_normal(200)
    return estimate_mi(x, x + rng.standard_normal(200), method="gaussian")


def _split():
    from ibkit.datasets import train_test_split

    return train_test_split(np.arange(20.0).reshape(10, 2), np.arange(10) % 2, random_state=0)


@pytest.mark.parametrize(
    "make",
    [_estimate, _split, lambda: __import__("ibkit.datasets").datasets.tishby_12bit()],
    ids=["MIEstimate", "Split", "DiscreteTask"],
)
def test_every_to_dict_is_plain_python(make):
    d = make().to_dict()
    bad = {name: type(v).__name__ for name, v in d.items() if not is_plain(v)}
    assert not bad, f"to_dict() holds values that are not plain Python: {bad}"
    assert json.loads(json.dumps(d)) == d


# --------------------------------------------------------------------------- progress

PROGRESS_USERS = ["ibkit.ib.curve", "ibkit.demo", "ibkit.sweep"]
TORCH_PROGRESS_USERS = ["ibkit.nn.training", "ibkit.nn.vib", "ibkit.nn._vib_sweep"]


@pytest.mark.parametrize("module", PROGRESS_USERS + TORCH_PROGRESS_USERS)
def test_progress_callbacks_share_one_type(module):
    if module in TORCH_PROGRESS_USERS:
        pytest.importorskip("torch")
    from ibkit._validation import Progress

    assert importlib.import_module(module).Progress is Progress


def _public_callables():
    """(qualified name, callable) of every public function, class and method of ibkit."""
    for module_name in MODULES:
        if "nn" in module_name.split(".") or module_name.endswith(".neural"):
            if importlib.util.find_spec("torch") is None:
                continue
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                yield f"{module_name}.{name}", obj
            elif inspect.isclass(obj) and obj.__module__.startswith("ibkit"):
                for attr, member in vars(obj).items():
                    if inspect.isfunction(member) and not attr.startswith("_"):
                        yield f"{module_name}.{name}.{attr}", member


def test_progress_means_one_thing_everywhere():
    # Every parameter named ``progress`` is a progress(done, total) callback; status
    # messages go through a parameter named ``say``.
    wrong = {}
    for qualname, func in _public_callables():
        params = inspect.signature(func).parameters
        for name in ("progress", "say"):
            if name in params:
                annotation = str(params[name].annotation)
                expected = "Progress" if name == "progress" else "Say"
                if expected not in annotation:
                    wrong[f"{qualname}({name})"] = annotation
    assert not wrong, f"callbacks with another meaning: {wrong}"
