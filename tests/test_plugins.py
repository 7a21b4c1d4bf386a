"""The plugin host, as DESIGN.md "Hooks" specifies it: built-ins and third-party plugins come
in through the same door, clashes are errors that name both plugins, broken plugins are
warnings, `EXECREPORT_LOAD_PLUGINS` is an allowlist, and every hook is documented."""

from __future__ import annotations

import ast
import email
import email.policy
import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pluggy
import pytest
from execreport import hookimpl
from execreport.errors import PluginError

REPO = Path(__file__).resolve().parent.parent
HOOKS_DOC = REPO / "docs" / "hooks.md"
COO_PACKAGE = REPO / "examples" / "execreport-coo"
AS_OF = date(2025, 3, 31)
BUILTIN_SOURCES = {"jada", "queenofsandiego", "quickdumpnow", "dangerouscentaur"}
BUILTIN_ROLES = {"ceo", "cto", "cfo", "cmo", "accounting"}
BUILTIN_SENDERS = {"outbox", "ses", "smtp"}


# -- helpers ----------------------------------------------------------------------------
def hookspecs() -> dict[str, list[str]]:
    """Each hook of core/hookspecs.py with its argument names."""
    from execreport import hookspecs as module

    return {
        name: list(inspect.signature(func).parameters)
        for name, func in vars(module).items()
        if callable(func) and hasattr(func, "execreport_spec")
    }


def documented_hooks() -> dict[str, tuple[list[str], str]]:
    """Each `### hook(args)` heading of docs/hooks.md: its argument names and its section."""
    text = HOOKS_DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    found = {}
    for part in parts:
        heading, _, body = part.partition("\n")
        match = re.fullmatch(r"`?(\w+)\(([^)]*)\)`?", heading.strip())
        if match:
            args = [a.strip() for a in match.group(2).split(",") if a.strip()]
            found[match.group(1)] = (args, body.split("\n## ")[0])
    return found


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def write_dataset(root: Path, *, roles: dict[str, list[str]] | None = None) -> Path:
    """One entity folder (entity.toml, ledger.csv) and an execreport.toml delivering to the
    outbox; returns the config's path."""
    acme = root / "acme"
    acme.mkdir(parents=True)
    (acme / "entity.toml").write_text(
        textwrap.dedent(
            """\
            name = "Acme Hauling"
            kind = "junk_removal"
            currency = "USD"
            opening_cash = "5000.00"
            opening_date = "2025-01-01"
            """
        ),
        encoding="utf-8",
    )
    (acme / "ledger.csv").write_text(
        "date,amount,account,category,counterparty,memo,service_date,receipt\n"
        "2025-01-10,1200.00,4000,hauling,Client A,garage clean-out,2025-01-10,\n"
        "2025-02-03,-300.00,6100,fuel,Shell,truck fuel,,r-001\n"
        "2025-02-20,-150.00,5000,dump fees,City Landfill,tipping,,r-002\n"
        "2025-03-12,900.00,4000,hauling,Client B,estate clean-out,2025-03-12,\n",
        encoding="utf-8",
    )
    tables = "".join(
        f"\n[roles.{role}]\nto = [{', '.join(json.dumps(a) for a in to)}]\n"
        for role, to in (roles or {}).items()
    )
    config = root / "execreport.toml"
    config.write_text(
        textwrap.dedent(
            f"""\
            [report]
            as_of = "{AS_OF.isoformat()}"

            [entities.acme]
            path = "acme"

            [delivery]
            sender = "outbox"
            from = "reports@example.com"
            to = ["team@example.com"]
            bcc = ["audit@example.com"]

            [delivery.outbox]
            path = "outbox"
            """
        )
        + tables,
        encoding="utf-8",
    )
    return config


def write_distribution(
    site: Path, name: str, version: str, entry_points: dict[str, str], modules: dict[str, str]
) -> None:
    """An installed distribution as pip leaves it: `<name>-<version>.dist-info` with METADATA
    and entry_points.txt (group `execreport`), and its modules, all in `site`."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = "".join(f"{ep} = {target}\n" for ep, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[execreport]\n{lines}", encoding="utf-8")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_plugin_manager: None) -> Path:
    """A folder on sys.path for `write_distribution`, gone (modules too) after the test."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        module_file = getattr(sys.modules[name], "__file__", None) or ""
        if module_file.startswith(str(folder)):
            del sys.modules[name]


def cli(
    *args: str, cwd: Path, pythonpath: Path | None = None, load: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m execreport ARGS` in a fresh process; `load` is EXECREPORT_LOAD_PLUGINS."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    if load is None:
        env.pop("EXECREPORT_LOAD_PLUGINS", None)
    else:
        env["EXECREPORT_LOAD_PLUGINS"] = load
    return subprocess.run(
        [sys.executable, "-m", "execreport", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


DEMO_ROLE_MODULE = """
    from execreport import hookimpl


    class Demo:
        name, title, priority = "demo", "Demo Review", 70

        def build(self, ctx):
            from execreport import Report

            return Report(role=self.name, title=self.title)


    @hookimpl
    def register_roles(register):
        register(Demo())
"""


class Recorder:
    """A plugin that remembers each notification hook call."""

    def __init__(self) -> None:
        self.built: list[tuple[Any, Any]] = []
        self.sent: list[tuple[Any, Any]] = []

    @hookimpl
    def report_built(self, report: Any, ctx: Any) -> None:
        self.built.append((report, ctx))

    @hookimpl
    def message_sent(self, message: Any, receipt: Any) -> None:
        self.sent.append((message, receipt))


def role_plugin(role_name: str) -> Any:
    """A plugin object that registers one role called `role_name`."""

    class Role:
        name, title, priority = role_name, f"{role_name} report", 90

        def build(self, ctx: Any) -> Any:
            from execreport import Report

            return Report(role=self.name, title=self.title)

    class Plugin:
        @hookimpl
        def register_roles(self, register: Callable[[Any], None]) -> None:
            register(Role())

    return Plugin()


# -- documentation ----------------------------------------------------------------------
def test_every_hookspec_is_documented() -> None:
    undocumented = sorted(set(hookspecs()) - set(documented_hooks()))
    assert not undocumented, f"docs/hooks.md has no '### hook(args)' section for {undocumented}"


def test_every_documented_hook_has_the_arguments_of_its_hookspec() -> None:
    docs = documented_hooks()
    specs = hookspecs()
    assert specs, "core/hookspecs.py has no hookspec"
    for name, args in specs.items():
        assert docs[name][0] == args, f"docs/hooks.md: {name}({', '.join(docs[name][0])})"


def test_docs_document_no_hook_that_does_not_exist() -> None:
    assert sorted(set(documented_hooks()) - set(hookspecs())) == []


def test_every_hook_has_an_example_that_implements_it() -> None:
    documented = documented_hooks()
    assert documented, "docs/hooks.md has no '### hook(args)' section"
    for name, (_, section) in documented.items():
        blocks = python_blocks(section)
        assert any("@hookimpl" in b and f"def {name}(" in b for b in blocks), (
            f"docs/hooks.md: {name} has no example with '@hookimpl def {name}('"
        )


def test_hook_examples_are_valid_python() -> None:
    blocks = python_blocks(HOOKS_DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= len(hookspecs()), "docs/hooks.md: fewer examples than hooks"
    for block in blocks:
        ast.parse(block)  # a SyntaxError names the line


# -- built-ins --------------------------------------------------------------------------
def test_builtins_register_four_sources_five_roles_three_senders(
    fresh_plugin_manager: None,
) -> None:
    from execreport import plugin_manager as plugins

    assert set(plugins.sources()) == BUILTIN_SOURCES
    assert set(plugins.roles()) == BUILTIN_ROLES
    assert "outbox" in plugins.senders()
    missing = [
        name
        for name in sorted(BUILTIN_SENDERS - {"outbox"})
        if importlib.util.find_spec(f"execreport.senders.{name}") is None
    ]
    assert not missing, f"built-in senders missing: {', '.join(missing)}"
    # more built-in channels may come (a kanban board); these three are the contract
    assert set(plugins.senders()) >= BUILTIN_SENDERS


def test_builtins_come_in_through_default_plugins_like_any_plugin(
    fresh_plugin_manager: None,
) -> None:
    from execreport.plugin_manager import DEFAULT_PLUGINS, describe

    rows = describe()
    assert all(r["builtin"] and r["name"] in DEFAULT_PLUGINS for r in rows)
    # every default plugin exists and is loaded: none is left out because it did not import
    assert sorted(r["name"] for r in rows) == sorted(DEFAULT_PLUGINS)
    # a module in entities/, roles/ or senders/ registers the one thing its name says
    for r in rows:
        folder, module = r["name"].split(".")[-2:]
        what = {"entities": "sources", "roles": "roles", "senders": "senders"}.get(folder)
        assert what, f"{r['name']}: a default plugin outside entities/, roles/, senders/"
        assert r.get(what) == [module], r


# -- clashes ----------------------------------------------------------------------------
def test_two_plugins_registering_one_role_name_is_an_error_naming_both(
    register_plugin: Callable[..., Any],
) -> None:
    from execreport import plugin_manager as plugins

    register_plugin(role_plugin("coo"), name="first-coo")
    register_plugin(role_plugin("coo"), name="second-coo")

    with pytest.raises(PluginError) as raised:
        plugins.roles()

    message = str(raised.value)
    assert "'coo'" in message
    assert "first-coo" in message and "second-coo" in message
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("hook", "registration", "builtin"),
    [
        ("register_roles", "role", "execreport.plugins.roles.cfo"),
        ("register_sources", "source", "execreport.plugins.entities.jada"),
        ("register_senders", "sender", "execreport.senders.outbox"),
    ],
)
def test_a_plugin_taking_a_builtin_name_is_an_error_naming_the_builtin(
    register_plugin: Callable[..., Any], hook: str, registration: str, builtin: str
) -> None:
    from execreport import plugin_manager as plugins

    taken = builtin.rsplit(".", 1)[1]

    class Impostor:
        key = name = taken
        title, kind, priority = "impostor", "other", 99

    def register_it(register: Callable[..., None]) -> None:
        if hook == "register_senders":
            register(taken, Impostor)
        else:
            register(Impostor())

    plugin = type("Plugin", (), {hook: staticmethod(hookimpl(register_it))})
    # pluggy reads the hook's name from the attribute, the arguments from the function
    register_plugin(plugin, name="impostor")

    lookup = {
        "register_roles": plugins.roles,
        "register_sources": plugins.sources,
        "register_senders": plugins.senders,
    }[hook]
    with pytest.raises(PluginError, match=f"{registration} '{taken}'") as raised:
        lookup()
    assert builtin in str(raised.value) and "impostor" in str(raised.value)


# -- discovery --------------------------------------------------------------------------
def test_broken_entry_point_plugin_is_a_warning_not_a_crash(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from execreport import plugin_manager as plugins

    write_distribution(
        site,
        "execreport-broken",
        "0.3.0",
        {"broken": "execreport_test_broken"},
        {"execreport_test_broken": "raise ImportError('needs libfoo, which is not installed')"},
    )
    monkeypatch.delenv("EXECREPORT_LOAD_PLUGINS")

    pm = plugins.get_plugin_manager()

    assert not pm.has_plugin("broken")
    assert set(plugins.roles()) >= BUILTIN_ROLES
    err = capsys.readouterr().err
    assert "warning" in err
    assert "'broken'" in err and "execreport-broken" in err
    assert "ImportError: needs libfoo" in err

    # and the command line keeps working, its JSON intact on stdout
    done = cli("plugins", "--json", cwd=site, pythonpath=site, load="execreport-broken")
    assert done.returncode == 0, done.stderr
    assert "broken" not in {r["name"] for r in json.loads(done.stdout)}
    assert "execreport-broken" in done.stderr and "Traceback" not in done.stderr


def test_load_plugins_allowlist_empty_blocks_third_party(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from execreport import plugin_manager as plugins

    write_distribution(
        site,
        "execreport-demo",
        "1.2.3",
        {"demo": "execreport_test_demo"},
        {"execreport_test_demo": DEMO_ROLE_MODULE},
    )
    monkeypatch.setenv("EXECREPORT_LOAD_PLUGINS", "")

    assert set(plugins.roles()) == BUILTIN_ROLES
    assert not plugins.get_plugin_manager().has_plugin("demo")


@pytest.mark.parametrize(
    ("allowlist", "loaded"),
    [
        (None, True),  # unset: every installed plugin
        ("execreport-demo", True),
        (" execreport-other , EXECREPORT_DEMO ", True),  # case and - / _ do not matter
        ("execreport-other", False),
        ("demo", False),  # the entry point's name is not the distribution's
    ],
)
def test_load_plugins_allowlist_names_distributions(
    site: Path, monkeypatch: pytest.MonkeyPatch, allowlist: str | None, loaded: bool
) -> None:
    from execreport import plugin_manager as plugins

    write_distribution(
        site,
        "execreport-demo",
        "1.2.3",
        {"demo": "execreport_test_demo"},
        {"execreport_test_demo": DEMO_ROLE_MODULE},
    )
    if allowlist is None:
        monkeypatch.delenv("EXECREPORT_LOAD_PLUGINS")
    else:
        monkeypatch.setenv("EXECREPORT_LOAD_PLUGINS", allowlist)

    assert ("demo" in plugins.roles()) is loaded
    assert set(plugins.roles()) >= BUILTIN_ROLES


def test_plugins_json_lists_name_version_hooks_registrations(site: Path) -> None:
    from importlib.metadata import version

    write_distribution(
        site,
        "execreport-demo",
        "1.2.3",
        {"demo": "execreport_test_demo"},
        {"execreport_test_demo": DEMO_ROLE_MODULE},
    )

    done = cli("plugins", "--json", cwd=site, pythonpath=site, load="execreport-demo")

    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert rows["demo"] == {
        "name": "demo",
        "distribution": "execreport-demo",
        "version": "1.2.3",
        "builtin": False,
        "hooks": ["register_roles"],
        "roles": ["demo"],
    }
    assert rows["execreport.senders.outbox"] == {
        "name": "execreport.senders.outbox",
        "distribution": "execreport",
        "version": version("execreport"),
        "builtin": True,
        "hooks": ["register_senders"],
        "senders": ["outbox"],
    }
    assert rows["execreport.plugins.roles.cfo"]["roles"] == ["cfo"]
    assert rows["execreport.plugins.entities.jada"]["sources"] == ["jada"]
    # built-ins first, then third-party plugins
    assert [r["builtin"] for r in rows.values()] == sorted(
        (r["builtin"] for r in rows.values()), reverse=True
    )


def test_two_distributions_with_one_plugin_name_is_an_error_naming_both(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from execreport.plugin_manager import get_plugin_manager

    for dist, module in (("execreport-coo", "coo_one"), ("execreport-coo-pro", "coo_two")):
        write_distribution(site, dist, "1.0.0", {"coo": module}, {module: DEMO_ROLE_MODULE})
    monkeypatch.delenv("EXECREPORT_LOAD_PLUGINS")

    with pytest.raises(PluginError) as raised:
        get_plugin_manager()

    assert "'coo'" in str(raised.value)
    assert "execreport-coo " in f"{raised.value} " and "execreport-coo-pro" in str(raised.value)


def test_misspelled_hookimpl_is_caught(register_plugin: Callable[..., Any]) -> None:
    class Typo:
        @hookimpl
        def register_role(self, register: Any) -> None:  # register_roles
            raise AssertionError("never called")

    with pytest.raises(pluggy.PluginValidationError, match="unknown hook 'register_role'"):
        register_plugin(Typo(), name="typo")


def test_misspelled_hookimpl_in_an_installed_plugin_fails_the_plugin_manager(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from execreport.plugin_manager import get_plugin_manager

    write_distribution(
        site,
        "execreport-typo",
        "0.1.0",
        {"typo": "execreport_test_typo"},
        {
            "execreport_test_typo": """
            from execreport import hookimpl

            @hookimpl
            def register_role(register):
                pass
        """
        },
    )
    monkeypatch.setenv("EXECREPORT_LOAD_PLUGINS", "execreport-typo")

    with pytest.raises((pluggy.PluginValidationError, PluginError), match="register_role"):
        get_plugin_manager()


@pytest.mark.parametrize(
    "bad_hookimpl",
    ["def register_role(register):\n    pass", "def register_roles(reg):\n    pass"],
    ids=["misspelled-hook", "misspelled-argument"],
)
def test_an_invalid_hookimpl_in_an_installed_plugin_is_one_line_naming_it(
    site: Path, bad_hookimpl: str
) -> None:
    source = f"from execreport import hookimpl\n\n@hookimpl\n{bad_hookimpl}\n"
    write_distribution(
        site,
        "execreport-typo",
        "0.1.0",
        {"typo": "execreport_test_typo"},
        {"execreport_test_typo": source},
    )

    done = cli("plugins", cwd=site, pythonpath=site, load="execreport-typo")

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("execreport: error: ")
    assert "'typo'" in done.stderr and "execreport-typo" in done.stderr


# -- notification hooks -----------------------------------------------------------------
def test_report_built_hook_is_called_per_report(
    register_plugin: Callable[..., Any], tmp_path: Path
) -> None:
    from execreport.config import load_config
    from execreport.pipeline import run

    recorder = Recorder()
    register_plugin(recorder, name="recorder")

    result = run(load_config(write_dataset(tmp_path)))

    assert sorted(report.role for report, _ in recorder.built) == sorted(BUILTIN_ROLES)
    assert {id(r) for r, _ in recorder.built} == {id(b.report) for b in result.build.items}
    for report, ctx in recorder.built:
        assert ctx.as_of == AS_OF and ctx.period == "Q1 2025"
        assert [e.key for e in ctx.entities] == ["acme"]
        assert report.subject  # filled in before the hook sees it


def test_message_sent_hook_is_called_per_accepted_message(
    register_plugin: Callable[..., Any], tmp_path: Path
) -> None:
    from execreport.config import load_config
    from execreport.pipeline import run

    recorder = Recorder()
    register_plugin(recorder, name="recorder")
    config = load_config(write_dataset(tmp_path, roles={"cfo": ["cfo@example.com"]}))

    first = run(config)

    sent = [(o.role, o.version) for o in first.outcomes if o.status == "sent"]
    assert sorted(sent) == sorted((role, 1) for role in BUILTIN_ROLES)
    assert [(m.role, m.version) for m, _ in recorder.sent] == sent  # in sending order
    emails = {}
    for eml in (tmp_path / "outbox").glob("*.eml"):
        parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        emails[parsed["Message-ID"]] = parsed
    for message, receipt in recorder.sent:
        assert receipt.sender == "outbox"
        assert receipt.message_id in emails  # the hook sees what was really sent
        assert message.bcc == ["audit@example.com"]
        expected = ["cfo@example.com"] if message.role == "cfo" else ["team@example.com"]
        assert message.to == expected

    # a delivery skipped as already sent is not reported again
    recorder.sent.clear()
    second = run(config)
    assert any(o.status == "skipped" for o in second.outcomes)
    resent = [(o.role, o.version) for o in second.outcomes if o.status == "sent"]
    assert [(m.role, m.version) for m, _ in recorder.sent] == resent


def test_register_commands_adds_a_cli_command(site: Path) -> None:
    write_distribution(
        site,
        "execreport-hello",
        "0.1.0",
        {"hello": "execreport_test_hello"},
        {
            "execreport_test_hello": '''
            from execreport import hookimpl


            @hookimpl
            def register_commands(app):
                @app.command()
                def hello(name: str = "world") -> None:
                    """Say hello from a plugin."""
                    print(f"hello {name}")
        '''
        },
    )

    done = cli("hello", "--name", "coo", cwd=site, pythonpath=site, load="execreport-hello")
    assert (done.returncode, done.stdout) == (0, "hello coo\n"), done.stderr

    listed = cli("--help", cwd=site, pythonpath=site, load="execreport-hello")
    assert "hello" in listed.stdout and "Say hello from a plugin." in listed.stdout

    blocked = cli("hello", cwd=site, pythonpath=site, load="")
    assert blocked.returncode != 0


# -- a real third-party package ---------------------------------------------------------
@pytest.fixture
def venv_with_coo(tmp_path: Path) -> Path:
    """A virtual environment that sees this one's packages (execreport among them) and has
    examples/execreport-coo installed from a copy, offline: returns its python."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
    )
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if sys.prefix != sys.base_prefix:
        # started from a virtual environment: its packages are not the "system" ones
        import site

        purelib = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in site.getsitepackages())
        Path(purelib, "_parent_environment.pth").write_text(lines, encoding="utf-8")
    # build from a copy: setuptools writes build/ and *.egg-info next to the sources
    source = shutil.copytree(COO_PACKAGE, tmp_path / "execreport-coo")
    done = subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--quiet",
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (
        "pip could not build examples/execreport-coo offline; building a wheel without "
        "isolation needs `wheel` (or setuptools>=70.1) in this environment "
        f"(pip install -e '.[test]'):\n{done.stdout}{done.stderr}"
    )
    return python


@pytest.mark.slow
def test_third_party_role_installed_in_a_venv_is_listed_built_and_delivered(
    venv_with_coo: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    config = write_dataset(data, roles={"coo": ["coo@example.com"]})
    env = {**os.environ, "EXECREPORT_LOAD_PLUGINS": "execreport-coo"}

    def execreport(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [venv_with_coo, "-m", "execreport", *args],
            cwd=data,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    listed = execreport("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    coo = next(r for r in json.loads(listed.stdout) if r["name"] == "coo")
    assert coo == {
        "name": "coo",
        "distribution": "execreport-coo",
        "version": "0.1.0",
        "builtin": False,
        "hooks": ["register_roles"],
        "roles": ["coo"],
    }

    built = execreport("build", "--json", "--config", str(config))
    assert built.returncode == 0, built.stderr
    reports = {r["role"]: r for r in json.loads(built.stdout)}
    assert set(reports) == BUILTIN_ROLES | {"coo"}
    report = reports["coo"]
    assert report["subject"] == "COO Operations Review: Q1 2025"
    assert report["priority"] == 60
    assert report["metrics"]["consolidated"]["transactions"] == 4
    assert report["metrics"]["acme"]["operating_spend"] == "300.00"  # 6xxx-7xxx only

    ran = execreport("run", "--config", str(config))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    [eml] = (data / "outbox").glob("coo-v1-*.eml")
    sent = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert sent["To"] == "coo@example.com"
    assert sent["Subject"] == "COO Operations Review: Q1 2025"
    assert sent["Bcc"] is None  # the audit copy travels in the envelope only
    envelope = json.loads(eml.with_name(eml.name.replace(".eml", ".envelope.json")).read_text())
    assert envelope["rcpt_to"] == ["coo@example.com", "audit@example.com"]


def test_the_coo_example_uses_only_public_execreport_names() -> None:
    import execreport

    tree = ast.parse((COO_PACKAGE / "execreport_coo" / "__init__.py").read_text(encoding="utf-8"))
    imports = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("execreport")
    ]
    assert imports, "the COO example imports nothing from execreport"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("execreport"):
            assert node.module == "execreport", f"line {node.lineno}: imports {node.module}"
            for alias in node.names:
                assert alias.name in execreport.__all__, f"line {node.lineno}: {alias.name}"
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("execreport") for a in node.names)
