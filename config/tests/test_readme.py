"""Every command in README.md runs here, as written, so the README cannot drift.

The fenced blocks are read from README.md in order. `sh` and `bash` blocks hold
commands; `console` blocks hold `$ command` lines, each followed by its output;
`python` and `text` blocks are not commands. A fence without a language fails the test
(it could hide a command), and so does a command that is neither run nor in EXCLUDED.
A block right under `<!-- not-run: reason -->` is illustrative and skipped (two at
most, each with its reason). The curls quoted in the prose run too.

The commands run one after another in one bash, as a reader pastes them (so `TOKEN=...`
carries over), against gunicorn serving this run's test database, where `seed_demo` made
the README's demo tenants and users (committed for this module, removed at its end), with
`TENANT_HEADER_ROUTING=true` as *Routing by header* says. The only changes made to a
command:

- `127.0.0.1:8000` and `localhost:8000` name the live server's port;
- `TOKEN=eyJ...` takes the `access` of the answer before it; `<id>` the `id` of the
  answer before it; `<product id>`, `<warehouse id>`, `<supplier id>` acme's demo
  product BOLT-M8, warehouse MAIN and supplier;
- `make` runs with `-o install` (the suite runs in the installed venv: a test never runs
  pip); stdin is /dev/null, so `dbshell` and `shell` end at once; the working directory
  is the checkout for `make` and `manage.py`, else a scratch folder (holding the
  `invoice.pdf` the upload example sends).

Comment lines right under a command are its answer. JSON (`# {...}`, the status first
when it is not 2xx: `# 401 {...}`) must match: every key shown, with its value, `...`
standing for anything. Other text must match line for line, `...` and numbers standing
for anything. Every curl must answer 2xx unless its answer names a status, and every
command must exit 0. What `provision_tenant` prints as "the two lines run as printed"
is run too. The blocks build on each other as the README's do: run the module whole.
"""

import io
import json
import queue
import re
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command, get_commands
from django.db import connections
from django_redis import get_redis_connection
from django_tenants.utils import tenant_context

from accounts.models import User
from inventory.models import Product, Supplier, Warehouse
from tenants.management.commands.seed_demo import OPERATOR_EMAIL, SHARED_MEMBER_EMAIL
from tenants.models import Tenant
from tenants.services import tenant_delete
from testing.processes import ROOT, child_env, gunicorn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

README = ROOT / "README.md"
RUN_LANGUAGES = {"sh", "bash", "console"}
TEXT_LANGUAGES = {"python", "text"}
NOT_RUN_MARKER = re.compile(r"<!--\s*not-run:\s*(.+?)\s*-->")
DEMO_TENANTS = ("acme", "globex")
# Made by the README's commands; removed with the demo tenants at the end.
MADE_TENANTS = ("umbrella", "initech")
MADE_USERS = ("boss@umbrella.test", "boss@initech.io")

# Commands not run here: (prefix of the command, why, where it is covered instead).
EXCLUDED = [
    (
        "make run",
        "serves until stopped, and starts its own embedded PostgreSQL and Redis (minutes)",
        "config/tests/test_dev_script.py starts it as the Makefile does (-m devscript): banner, every way of stopping",
    ),
    (
        "make test",
        "the suite itself: this test runs under it",
        ".ci/run runs `make test` both ways: with DATABASE_URL/REDIS_URL set, and with neither (embedded)",
    ),
    (
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera REDIS_URL=redis://127.0.0.1:6379/0 make test",
        "the suite itself: this test runs under it",
        ".ci/run runs exactly this form",
    ),
    (
        "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))') docker compose up",
        "needs Docker and image downloads; neither is on the test machine",
        "not covered by the suite: the image's gunicorn config (config/gunicorn.py) is what this test serves with",
    ),
    (
        "docker compose run --rm web python manage.py provision_tenant",
        "needs the compose stack above",
        "provision_tenant itself runs in this test (make manage, python manage.py)",
    ),
]

# Seconds for one command. The module takes about 20 s on the 2-core development VM when
# it is quiet, up to a minute under a load of 5.
COMMAND_TIMEOUT = 60


# --- reading the README --------------------------------------------------------------


@dataclass
class Step:
    command: str
    answer: list[str] = field(default_factory=list)  # comment or output lines under it


@dataclass
class Block:
    line: int
    language: str
    text: str
    not_run: str | None

    @property
    def id(self) -> str:
        return f"README.md:{self.line}"

    def steps(self) -> list[Step]:
        return console_steps(self.text) if self.language == "console" else shell_steps(self.text)


FENCE = re.compile(r"^( *)```(\S*)[^\n]*\n(.*?)^\1```[ \t]*$", re.MULTILINE | re.DOTALL)


def readme_blocks() -> list[Block]:
    text = README.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        marker = NOT_RUN_MARKER.search(before)
        indent = len(match.group(1))
        body = "\n".join(line[indent:] for line in match.group(3).splitlines())
        blocks.append(
            Block(
                line=text.count("\n", 0, match.start()) + 1,
                language=match.group(2),
                text=body,
                not_run=marker.group(1) if marker else None,
            )
        )
    return blocks


def shell_steps(text: str) -> list[Step]:
    """Logical commands (backslash continuations joined) and the comments right under each."""
    steps: list[Step] = []
    lines = text.splitlines()
    index, last = 0, None
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            last = None
        elif line.lstrip().startswith("#"):
            if last is not None:
                last.answer.append(line.lstrip()[1:])
        else:
            command = line
            while command.endswith("\\") and index + 1 < len(lines):
                index += 1
                command += "\n" + lines[index]
            last = Step(command)
            steps.append(last)
        index += 1
    return steps


def console_steps(text: str) -> list[Step]:
    steps: list[Step] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append(Step(line[2:]))
        elif steps:
            steps[-1].answer.append(line)
    return steps


def exclusion(command: str) -> tuple[str, str, str] | None:
    flat = " ".join(command.replace("\\\n", " ").split())
    for prefix, why, covered in EXCLUDED:
        if flat == prefix or flat.startswith(prefix + " "):
            return prefix, why, covered
    return None


BLOCKS = readme_blocks()
RUN_BLOCKS = [block for block in BLOCKS if block.language in RUN_LANGUAGES and not block.not_run]


# --- answers -------------------------------------------------------------------------


def expected_json(lines: list[str]) -> tuple[int | None, Any] | None:
    """`# 401 {...}` / `# {...}` under a command: (status or None, the JSON shown)."""
    text = " ".join(line.strip() for line in lines)
    match = re.match(r"(?:(\d{3}) )?([{\[].*)", text)
    if not match:
        return None
    body = match.group(2).replace("{...}", "{}").replace("[...]", "[]")  # an object / a list
    body = re.sub(r":\s*\.\.\.(?=\s*[,}])", ': "..."', body)  # "key": ... (any value)
    body = re.sub(r"\.\.\.,\s*", "", body)  # {..., "key": 1}
    body = re.sub(r",\s*\.\.\.(?=\s*[}\]])", "", body)  # {"key": 1, ...}
    value, _ = json.JSONDecoder().raw_decode(body)  # anything after it is a remark
    return (int(match.group(1)) if match.group(1) else None), value


def assert_like(actual: Any, expected: Any, where: str = "answer") -> None:
    """`actual` has every key of `expected` with a matching value; "..." matches anything."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}: no key {key!r} in {sorted(actual)}"
            assert_like(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r}"
        if all(not isinstance(item, dict | list) for item in expected):
            assert actual == expected, f"{where}: {actual!r} != {expected!r}"
        else:
            assert len(actual) >= len(expected), f"{where}: {len(actual)} items, the README shows {len(expected)}"
            for position, item in enumerate(expected):
                assert_like(actual[position], item, f"{where}[{position}]")
    elif isinstance(expected, str) and "..." in expected:
        pattern = ".*".join(re.escape(part) for part in expected.split("..."))
        assert isinstance(actual, str) and re.fullmatch(pattern, actual, re.DOTALL), f"{where}: {actual!r}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def text_pattern(line: str) -> str:
    parts = re.split(r"(\.\.\.|\d+)", line.strip())
    return "".join(".*" if part == "..." else r"\d+" if part.isdigit() else re.escape(part) for part in parts)


# --- the shell -----------------------------------------------------------------------


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    statuses: list[int]  # one per curl, in order

    def json(self) -> Any:
        return json.loads(self.stdout)


class Shell:
    """One bash for the whole README, fed one command at a time. `curl` is wrapped to
    report each answer's status (on a file of its own, so the output is the reader's)."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.folder = folder
        self.out, self.err, self.status = folder / ".out", folder / ".err", folder / ".status"
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env=env,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._send(f"curl() {{ command curl -w '%{{stderr}}@@status %{{http_code}}\\n' \"$@\" 2>>'{self.status}'; }}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def _send(self, script: str) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write(script + "\nprintf '\\n@@done %d\\n' $?\n")
        self.process.stdin.flush()
        while True:
            try:
                line = self.lines.get(timeout=COMMAND_TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no end in {COMMAND_TIMEOUT} s: {script}") from None
            if line.startswith("@@done "):
                return int(line.split()[1])

    def run(self, command: str, cwd: Path) -> Result:
        self.status.write_text("")
        code = self._send(f"cd '{cwd}'\n{{ {command}\n}} >'{self.out}' 2>'{self.err}' </dev/null")
        statuses = [int(code) for code in re.findall(r"@@status (\d+)", self.status.read_text())]
        return Result(code, self.out.read_text(), self.err.read_text(), statuses)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


# --- the live server and the demo data ------------------------------------------------


def forget(slugs: tuple[str, ...], emails: tuple[str, ...]) -> None:
    """Delete the tenants (schemas too) and users this module made, committed."""
    connections.close_all()
    for tenant in Tenant.objects.filter(slug__in=slugs):
        tenant_delete(tenant=tenant, drop_schema=True)
    User.objects.filter(email__in=emails).delete()


def demo_emails() -> tuple[str, ...]:
    roles = ("owner", "admin", "manager", "member", "viewer")
    return (OPERATOR_EMAIL, SHARED_MEMBER_EMAIL, *(f"{role}@{slug}.test" for slug in DEMO_TENANTS for role in roles))


@dataclass
class Readme:
    shell: Shell
    folder: Path
    port: int
    placeholders: dict[str, str]
    last: dict = field(default_factory=dict)  # the last JSON answer


@pytest.fixture(scope="module")
def readme(platform, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=io.StringIO())
        acme = Tenant.objects.get(slug="acme")
        with tenant_context(acme):
            placeholders = {
                "<product id>": str(Product.objects.get(sku="BOLT-M8").pk),
                "<warehouse id>": str(Warehouse.objects.get(code="MAIN").pk),
                "<supplier id>": str(Supplier.objects.get().pk),
            }
    folder = tmp_path_factory.mktemp("readme")
    (folder / "invoice.pdf").write_bytes(b"%PDF-1.4\n" + b"0" * (48213 - 9))  # the size the README shows
    try:
        with gunicorn(child_env(LOG_LEVEL="WARNING", TENANT_HEADER_ROUTING="true")) as base:
            port = int(base.rsplit(":", 1)[1])
            env = child_env(
                TENANT_HEADER_ROUTING="true",
                PUBLIC_URL_SCHEME="http",
                PUBLIC_URL_PORT=str(port),
                LOG_LEVEL="WARNING",
                PATH=f"{ROOT / '.venv' / 'bin'}:{child_env()['PATH']}",
            )
            # Under `make test ARGS=...`, make exports its own state and ARGS: a reader's
            # shell has neither (`make shell` would take the suite's ARGS).
            for name in [name for name in env if name.startswith("MAKE") or name in ("MFLAGS", "ARGS")]:
                del env[name]
            shell = Shell(env, folder)
            try:
                yield Readme(shell, folder, port, placeholders)
            finally:
                shell.close()
    finally:
        with django_db_blocker.unblock():
            forget(DEMO_TENANTS + MADE_TENANTS, demo_emails() + MADE_USERS)
        # Deleting users bumps their cached versions: after the last test's cleanup, so here.
        redis = get_redis_connection("default")
        keys = list(redis.scan_iter(match=f"*test-{settings.TEST_RUN_ID}:*", count=1000))
        if keys:
            redis.delete(*keys)


def prepared(command: str, readme: Readme) -> str:
    command = command.replace("127.0.0.1:8000", f"127.0.0.1:{readme.port}")
    command = command.replace("localhost:8000", f"localhost:{readme.port}")
    if re.match(r"TOKEN=eyJ\.\.\.", command):
        assert "access" in readme.last, "TOKEN=eyJ... with no token in the answer before it"
        command = command.replace("TOKEN=eyJ...", f"TOKEN={readme.last['access']}", 1)
    if "<id>" in command:
        command = command.replace("<id>", readme.last["id"])
    for placeholder, value in readme.placeholders.items():
        command = command.replace(placeholder, value)
    return re.sub(r"^make ", "make -o install ", command)


def run_step(step: Step, readme: Readme) -> Result:
    command = prepared(step.command, readme)
    assert not re.search(r"<[a-z ]+>", command), f"a placeholder this test cannot fill: {command}"
    cwd = ROOT if re.search(r"\bmake\b|manage\.py", command) else readme.folder
    result = readme.shell.run(command, cwd)
    shown = f"$ {step.command}\n(exit {result.code}, statuses {result.statuses})\n{result.stdout}\n{result.stderr}"
    assert result.code == 0, shown
    try:
        answer = result.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        readme.last = answer
    assert "command not found" not in result.stderr, shown
    if re.match(r"(TOKEN=\$\()?curl ", command):
        assert not result.stderr, shown  # curl's own errors go to the status file: this is bash's
    answer_lines = [line.replace("localhost:8000", f"localhost:{readme.port}") for line in step.answer]
    expected = expected_json(answer_lines) if answer_lines else None
    if expected is not None:
        status, body = expected
        assert result.statuses, shown
        assert status is None or result.statuses[-1] == status, shown
        assert answer is not None, shown
        assert_like(answer, body)
        others = result.statuses[:-1] if status is not None else result.statuses
    else:
        others = result.statuses
        if step.answer:
            lines = result.stdout.strip().splitlines()
            assert len(lines) == len(step.answer), shown
            for line, shown_line in zip(lines, answer_lines, strict=True):
                pattern = text_pattern(shown_line)
                assert re.fullmatch(pattern, line.strip()), f"{line!r} does not match the README's {shown_line!r}"
    assert all(200 <= status < 300 for status in others), shown
    return result


def after_step(step: Step, result: Result, readme: Readme) -> None:
    """provision_tenant prints two lines to try, which "run as printed": a token, then a call."""
    if "provision_tenant" not in step.command:
        return
    lines = result.stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("Try it")) + 1
    tries = [line.strip() for line in lines[start:]]
    assert len(tries) == 2 and tries[0].startswith("TOKEN=$(curl "), result.stdout
    for line in tries:
        tried = readme.shell.run(line, readme.folder)
        assert tried.code == 0 and tried.statuses == [200] and not tried.stderr, (line, tried)
    assert tried.json()["slug"] == step.command.split("provision_tenant ")[1].split()[0]


# --- the tests -----------------------------------------------------------------------


def test_every_fence_names_a_language_and_every_command_is_run_or_excluded():
    unknown = [b.id for b in BLOCKS if b.language not in RUN_LANGUAGES | TEXT_LANGUAGES]
    assert not unknown, f"fences without a known language (sh, bash, console, python, text): {unknown}"
    # Illustrative blocks stay very few, each with its reason.
    assert len([b for b in BLOCKS if b.not_run]) <= 2
    steps = [step for block in RUN_BLOCKS for step in block.steps()]
    assert len(steps) >= 25  # the extractor found the README's commands
    used = {exclusion(step.command)[0] for step in steps if exclusion(step.command)}
    assert used == {prefix for prefix, _, _ in EXCLUDED}, "an EXCLUDED entry matches no README command any more"


def test_readme_stands_alone_and_names_only_what_exists():
    text = README.read_text()
    assert "../shared" not in text and "DESIGN.md" not in text and "STYLE.md" not in text
    headings = {anchor(line) for line in text.splitlines() if line.startswith("#")}
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith("http"):
            continue
        path, _, fragment = target.partition("#")
        if path:
            assert (ROOT / path).is_file(), f"the README links {target}, which does not exist"
        if fragment:
            lines = (ROOT / path).read_text().splitlines() if path else text.splitlines()
            assert fragment in {anchor(line) for line in lines if line.startswith("#")}, target
        else:
            assert path, target
    assert headings
    # Every file the README names in backticks from the top of the checkout exists
    # (`tests/factories.py` is each app's: not from the top; `.devdata/` is made at run time).
    for name in re.findall(r"`((?:[\w.-]+/)+[\w.-]+\.(?:py|md|yml|yaml|ini|txt|toml|json))`", text):
        top = name.split("/", 1)[0]
        if (ROOT / top).is_dir() and top != ".devdata":
            assert (ROOT / name).exists(), f"the README names {name}, which does not exist"


def test_readme_names_only_commands_that_exist():
    text = README.read_text()
    commands = set(re.findall(r"manage\.py ([a-z_]+)", text))
    commands |= set(re.findall(r"make manage ARGS=[\"']?([a-z_]+)", text))
    commands |= set(re.findall(r"^\| `([a-z_]+)[ `]", text, re.MULTILINE))  # the lifecycle table
    assert {"provision_tenant", "leftover_schemas", "tenant_plan", "documents_verify"} <= commands
    assert commands - set(get_commands()) == set()
    targets = set(re.findall(r"^([a-z]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    named = set(re.findall(r"(?:`|^)make ([a-z]+)", text, re.MULTILINE))
    assert named and named - targets == set()
    for bench in re.findall(r"make bench ARGS=([a-z]+)", text):
        assert (ROOT / "bench" / f"{bench}.py").is_file(), bench


def anchor(heading: str) -> str:
    title = heading.lstrip("#").strip().lower()
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title))


@pytest.mark.parametrize("block", RUN_BLOCKS, ids=lambda block: block.id)
def test_readme_block_runs_as_written(block: Block, readme: Readme):
    ran = 0
    for step in block.steps():
        if exclusion(step.command):
            continue
        result = run_step(step, readme)
        after_step(step, result, readme)
        ran += 1
    if block.text.strip() and not ran:
        pytest.skip("every command here is in EXCLUDED (see there for why and where it is covered)")


def test_readme_inline_curls_answer(readme):
    """The curls quoted in the prose (`curl http://acme.localhost:8000/api/v1/`) work too."""
    spans = re.findall(r"`(curl [^`]*http[^`]*)`", README.read_text())
    assert len(spans) >= 2
    for span in spans:
        command = prepared(" ".join(span.split()), readme)
        result = readme.shell.run(command + " -o /dev/null", readme.folder)
        assert result.code == 0 and result.statuses and all(s == 200 for s in result.statuses), (span, result)


def test_answers_are_compared_by_keys_and_values_with_ellipses_for_anything():
    status, shown = expected_json([' 401 {"detail": ..., "code": "token_wrong_tenant", ...}   <- a remark'])
    assert status == 401 and shown == {"detail": "...", "code": "token_wrong_tenant"}
    assert expected_json([" Provisioned initech: http://..."]) is None  # text, not JSON
    assert_like({"code": "token_wrong_tenant", "detail": "No.", "extra": 1}, shown)
    for wrong in ({"code": "token_revoked", "detail": "No."}, {"code": "token_wrong_tenant"}, [shown]):
        with pytest.raises(AssertionError):
            assert_like(wrong, shown)
    _, listed = expected_json([' {"results": [{"id": "...", "data": {...}}],', '  "modules": ["a", "b"]}'])
    assert_like({"results": [{"id": "x", "data": {"sku": "B"}}, {}], "modules": ["a", "b"]}, listed)
    with pytest.raises(AssertionError):
        assert_like({"results": [], "modules": ["a", "b"]}, listed)
    with pytest.raises(AssertionError):
        assert_like({"results": [{"id": "x", "data": {}}], "modules": ["a"]}, listed)
    assert re.fullmatch(text_pattern("Plan: team (12 bytes) ..."), "Plan: team (470 bytes) and more")
    assert not re.fullmatch(text_pattern("Plan: team"), "Plan: free")


def test_the_upload_example_round_trips_the_bytes(readme):
    # The download example writes the document back over invoice.pdf: the same bytes.
    assert (readme.folder / "invoice.pdf").read_bytes()[:9] == b"%PDF-1.4\n"
    assert (readme.folder / "invoice.pdf").stat().st_size == 48213
