"""What every command shares: the global options, the error handler, opening the database.

Only ``click`` and the standard library are imported at module level: ``kysera --help`` must not
load the database layer, the runner or any driver. Everything heavier is imported inside the
functions that need it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .output import Output

if TYPE_CHECKING:
    from pathlib import Path

    from ..config import ResolvedUrl, Settings
    from ..database import Database
    from ..url import DatabaseUrl

F = TypeVar("F", bound=Callable[..., Any])

#: exit codes besides 0 (docs/cli.md)
EXIT_FAILED = 1
EXIT_USAGE = 2
#: Ctrl-C (SIGINT), as shells report it: 128 + 2
EXIT_INTERRUPTED = 130
#: SIGTERM (a CI job's timeout, ``kill``), as shells report it: 128 + 15
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, as Ctrl-C's KeyboardInterrupt is: a CI job's timeout
    sends it, and the default action ends the process at once, saying nothing, leaving a dump's
    temporary file behind and no JSON for the deploy script to read."""


def stop_on_sigterm() -> None:
    """From now on SIGTERM stops the command as Ctrl-C does (see :class:`Terminated`): what runs
    rolls back or is recorded as interrupted, and the command says so. Only the console script
    calls it (on the main thread); the CI's SIGKILL after its grace period still ends it outright."""
    import signal

    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:  # ignored on purpose by whoever started us
        return

    def terminate(signum: int, frame: object) -> None:
        raise Terminated("terminated (SIGTERM)")

    signal.signal(signal.SIGTERM, terminate)


class State:
    """The global options, gathered from the root group and the command (the command's win)."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.config: str | None = None
        self.env: str | None = None
        #: the environment came from $KYSERA_ENV, not --env: a project without a config file ignores it
        self.env_from_environment = False
        self.verbose = 0
        #: -q: only warnings, errors and the data asked for (SQL scripts, JSON)
        self.quiet = False
        self.json = False
        #: --json was on the command line (seen before parsing: usage errors answer in JSON too)
        self.json_asked = False
        self._settings: Settings | None = None
        self._output: Output | None = None
        #: whether a .env file that kysera does not read was looked for (see _dotenv_url)
        self._dotenv_checked = False
        #: whether a URL variable that wins over the --env section's URL was said (once)
        self._env_url_checked = False
        #: what Ctrl-C interrupted, in words (a command that runs migrations sets it)
        self.interrupted: Callable[[], str] | None = None
        #: and for --json: what the run did before it (``executed``, ``interrupted``)
        self.interrupted_result: Callable[[], dict[str, object]] | None = None

    @property
    def out(self) -> Output:
        if self._output is None:
            self._output = Output(verbose=self.verbose, json_mode=self.json, quiet=self.quiet)
        return self._output

    def settings(self) -> Settings:
        if self._settings is None:
            from ..config import load_settings

            self._settings = load_settings(
                self.config,
                self.env,
                env_needs_config=not self.env_from_environment,
                env_source="$KYSERA_ENV" if self.env_from_environment else None,
            )
            if self._settings.path is not None:
                self.out.detail(f"config: {self._settings.path}" + (f" [env.{self.env}]" if self.env else ""))
        return self._settings

    def resolve_url(self) -> ResolvedUrl:
        from ..config import URL_VARIABLES, resolve_url

        resolved = resolve_url(self.settings(), self.url)
        settings = self.settings()
        if (
            settings.env_sets_url
            and not self.env_from_environment
            and resolved.source in URL_VARIABLES
            and not self._env_url_checked
        ):
            # --env NAME asked for that environment's database; a variable exported for another
            # one (a local DATABASE_URL) wins over it, as documented, but not without a word
            self._env_url_checked = True
            self.out.warn(
                f"{resolved.source} is set and wins over [env.{settings.env}] database.url: using "
                f"{resolved.url.redacted()}. To use the environment's database, unset {resolved.source}"
            )
        if not self._dotenv_checked and (resolved.is_default or resolved.source.startswith(str(self.settings().path))):
            self._dotenv_checked = True  # said once, however often the URL is needed
            unread = _dotenv_url(self.settings().root, resolved)
            if unread is not None:
                self.out.warn(
                    f"{unread[0]} sets {unread[1]}, but kysera reads no .env file: using {resolved.url.redacted()} "
                    f"({'the default' if resolved.is_default else 'from ' + resolved.source}). To use the .env URL, "
                    f"export it first (set -a; . {unread[0]}; set +a) or pass --url"
                )
                return resolved
        if resolved.is_default:
            self.out.note(
                f"note: no database URL given; using {resolved.url.redacted()} "
                "(pass --url, set DATABASE_URL, or set [database] url in kysera.toml)"
            )
        else:
            self.out.detail(f"database: {resolved.url.redacted()} (from {resolved.source})")
        return resolved

    def connect(self, *, read_only: bool = False, start_work: bool = True) -> Database:
        """Open the database. ``read_only``: a SQLite file that does not exist yet is not
        created; an empty in-memory database stands in for it (status, dry runs).
        ``start_work``: a command that writes ends its start-up here (see :func:`work_begins`)."""
        import os

        from ..database import connect

        if start_work and not read_only:
            work_begins()
        resolved = self.resolve_url()
        url = resolved.url
        path = url.database
        if (
            read_only
            and url.dialect == "sqlite"
            and path not in ("", ":memory:")
            and not path.startswith("file:")
            and not os.path.exists(path)
        ):
            # said without -v (the default URL's note says enough): a misspelt path looks like a
            # new project with everything pending
            message = f"{path} does not exist yet: read as an empty database (migrate up creates it)"
            folder = os.path.dirname(path)
            if folder and not os.path.isdir(folder):
                # up would fail on it ("the folder ... does not exist"): say so now, not after
                # the user has read a table of pending migrations as a new project's
                message = (
                    f"{path} does not exist and neither does its folder {folder}: read as an empty"
                    " database; create the folder, or fix the path in the URL"
                )
            if resolved.is_default:
                self.out.detail(message)
            else:
                self.out.note(message)
            db = connect(url.with_database(":memory:"))
            db.url = url
            return db
        return connect(url)


def _dotenv_url(root: Path, resolved: ResolvedUrl) -> tuple[str, str] | None:
    """A ``.env`` file (dbmate's and goose's habit; kysera does not read it) in the current
    folder or the project's that sets ``DATABASE_URL`` or ``KYSERA_DATABASE_URL`` to another URL
    than the one used: (the file as shown, the variable)."""
    import os
    import re
    from pathlib import Path

    from ..config import URL_VARIABLES
    from ..url import parse_url

    for folder in dict.fromkeys((Path.cwd(), root)):
        path = folder / ".env"
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:  # none (the usual case), or unreadable: nothing to say
            continue
        for variable in URL_VARIABLES:
            found = re.search(rf"^\s*(?:export\s+)?{variable}\s*=\s*(.*?)\s*$", text, re.M)
            if found is None:
                continue
            value = found.group(1)
            if value[:1] in ("'", '"') and value[0] in value[1:]:
                value = value[1 : value.index(value[0], 1)]
            else:  # unquoted: a comment after it is no part of it, as .env readers take it
                value = value.split(" #", 1)[0].strip()
            try:
                same = _same_database(parse_url(value), resolved.url)
            except Exception:  # ${VAR} inside, or not a URL kysera knows: not the one used either
                same = False
            if not same:
                shown = os.path.relpath(path)
                return (shown if shown.startswith(("../", "/")) else f"./{shown}", variable)
    return None


def _same_database(a: DatabaseUrl, b: DatabaseUrl) -> bool:
    """Whether two URLs lead to one database, however they spell it: ``postgres://`` or
    ``postgresql+psycopg2://``, the default port written out or not, another password."""
    import os

    if a.dialect != b.dialect:
        return False
    if a.dialect == "sqlite":
        return os.path.abspath(a.database) == os.path.abspath(b.database)
    port = {"postgres": 5432, "mysql": 3306}.get(a.dialect)

    def where(url: DatabaseUrl) -> tuple[object, ...]:
        return ((url.host or "localhost").lower(), url.port or port, url.username, url.database)

    return where(a) == where(b)


def work_begins() -> None:
    """Start-up is over: turn the cyclic garbage collector back on (``main`` turned it off).

    What start-up made (modules, the loaded migrations) lives as long as the process, so it is
    frozen first: later collections only look at what the work itself allocates.
    """
    import gc

    if not gc.isenabled():
        gc.freeze()
    gc.enable()


def get_state() -> State:
    ctx = click.get_current_context()
    state = ctx.find_object(State)
    if state is None:
        state = ctx.ensure_object(State)
    return state


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is None or value is False or value == 0:
            return
        state = ctx.find_object(State) or ctx.ensure_object(State)
        if (
            param.name is not None
            and ctx.get_parameter_source(param.name) is click.core.ParameterSource.ENVIRONMENT
            and getattr(state, name, None) is not None
        ):
            return  # KYSERA_ENV fills in --env only where the command line gave none (before the command too)
        if name == "verbose":
            state.verbose += int(value)
        else:
            setattr(state, name, value)
            if name == "env":
                state.env_from_environment = (
                    param.name is not None
                    and ctx.get_parameter_source(param.name) is click.core.ParameterSource.ENVIRONMENT
                )
        if state.quiet and state.verbose:
            raise click.UsageError("-q/--quiet and -v/--verbose ask for opposite things; give one of them")
        state._output = None  # rebuilt with the new verbosity or mode

    return callback


def global_options(func: F) -> F:
    """``--url``, ``--config``, ``--env``, ``-v`` and ``-q``: accepted by the root group and every command."""
    options = [
        click.option(
            "--url",
            metavar="URL",
            expose_value=False,
            callback=_store("url"),
            help="Database URL (wins over KYSERA_DATABASE_URL, DATABASE_URL and the config file).",
        ),
        click.option(
            "--config",
            metavar="FILE",
            expose_value=False,
            callback=_store("config"),
            help="Config file to use instead of the nearest kysera.toml / pyproject.toml.",
        ),
        click.option(
            "--env",
            metavar="NAME",
            expose_value=False,
            envvar="KYSERA_ENV",
            callback=_store("env"),
            help="Apply the config file's [env.NAME] section (default: $KYSERA_ENV).",
        ),
        click.option(
            "-v",
            "--verbose",
            count=True,
            expose_value=False,
            callback=_store("verbose"),
            help="More detail; show tracebacks on errors.",
        ),
        click.option(
            "-q",
            "--quiet",
            is_flag=True,
            expose_value=False,
            callback=_store("quiet"),
            help="Print only warnings, errors and what was asked for (status, --json, SQL scripts).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def json_option(func: F) -> F:
    return click.option(
        "--json",
        "json_mode",
        is_flag=True,
        expose_value=False,
        callback=_store("json"),
        help="Print machine-readable JSON on stdout.",
    )(func)


class LazyGroup(click.Group):
    """A group whose commands are imported on first use: ``lazy_commands`` maps each command
    name to ``"module:function"`` in ``lazy_package``. Running one command imports one module."""

    def __init__(
        self,
        *args: Any,
        lazy_commands: dict[str, str] | None = None,
        lazy_package: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})
        self.lazy_package = lazy_package

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and not ctx.resilient_parsing and self.get_command(ctx, name) is None:
            from difflib import get_close_matches

            from .habits import command_hint

            known = self.list_commands(ctx)
            close = get_close_matches(name, known, n=1, cutoff=0.6)
            # another tool's word first: difflib takes `current` for `create`, `force` for `fresh`
            hint = command_hint(name, self) or (
                f"did you mean {close[0]!r}?" if close else f"the commands are {', '.join(known)}"
            )
            ctx.fail(f"No such command {name!r}; {hint}")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        from importlib import import_module

        module, _, function = target.partition(":")
        command: click.Command = getattr(import_module(f"{self.lazy_package}.{module}"), function)
        return command


class KyseraGroup(LazyGroup):
    """The root group: turns a :class:`KyseraError` into one message and its exit code."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        extra.setdefault("obj", State())  # shared by every command below, and by the error report
        # a usage error may come before the --json option is parsed: remember whether it was given
        extra["obj"].json_asked = "--json" in args
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:  # in the options before the command: `kysera --bogus --json migrate up`
            raise _report_usage_error(exc, extra["obj"]) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            hinted = _report_usage_error(exc, ctx.find_object(State))
            if hinted is not exc:
                raise hinted from None
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, BrokenPipeError):
            raise  # a closed pipe (kysera migrate status | head) is not an error to report
        except KeyboardInterrupt as exc:
            state = ctx.find_object(State) or State()
            try:
                state.out.end_progress()
            except OSError:
                pass
            said = None
            if state.interrupted is not None:
                try:
                    said = state.interrupted()
                except Exception:  # a courtesy: the generic words below still hold
                    said = None
            message = said or (
                "interrupted. A migration that was running rolled back on PostgreSQL and SQLite; on MySQL/MariaDB, "
                "or outside a transaction, it may be partly applied: `kysera migrate status` says where the run stopped"
            )
            terminated = isinstance(exc, Terminated)
            if terminated and message.startswith("interrupted"):
                message = "terminated (SIGTERM)" + message[len("interrupted"):]
            code = EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
            state.out.error(message)
            # a deploy script reads stdout: it gets its document, unless the command wrote its own
            # already (the signal came as it ended): a second one would make stdout no JSON at all
            if (state.json or state.json_asked) and not state.out.json_written:
                payload: dict[str, object] = {}
                if state.interrupted_result is not None:
                    try:
                        payload = state.interrupted_result()
                    except Exception:
                        payload = {}
                payload = {
                    **payload, "ok": False, "error": message,
                    "error_type": "Terminated" if terminated else "Interrupted", "exit_code": code,
                }
                try:
                    state.out.json(payload)
                except OSError:  # the reader went away
                    pass
            raise click.exceptions.Exit(code) from None
        except Exception as exc:
            code = report_error(exc, ctx)
            raise click.exceptions.Exit(code) from None


def _report_usage_error(exc: click.UsageError, state: State | None) -> click.UsageError:
    """``exc`` with kysera's hint (`up 2`, `--fake`, `--sql`: what kysera takes instead), after
    printing its JSON document when ``--json`` was asked for; click prints the message."""
    from .habits import usage_hint

    hinted = usage_hint(exc)
    if state is not None and state.json_asked:
        import json

        # migrate sql's stdout is the script (`> deploy.sql`), also when its options are refused
        script = exc.ctx is not None and exc.ctx.command_path.split()[-2:] == ["migrate", "sql"]
        click.echo(
            json.dumps({"ok": False, "error": hinted.format_message(), "error_type": "UsageError", "exit_code": hinted.exit_code}),
            err=script or (state._output is not None and state._output.json_to_stderr),
        )
    return hinted


def report_error(exc: BaseException, ctx: click.Context) -> int:
    from ..errors import KyseraError

    state = ctx.find_object(State) or State()
    out = state.out
    try:
        out.end_progress()  # the lines of what ran come before the error
    except OSError:  # stdout's reader went away; stderr may still show the error
        pass
    if isinstance(exc, KyseraError):
        message = str(exc)
        code = exc.exit_code
    else:
        message = f"{type(exc).__name__}: {exc}"
        code = EXIT_FAILED
    if state.verbose:
        import traceback

        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    out.error(message)
    if not isinstance(exc, KyseraError) and not state.verbose:
        out.note("(an unexpected error: run again with -v to see the traceback)")
    if state.json:
        payload: dict[str, object] = {"ok": False, "error": message, "error_type": type(exc).__name__, "exit_code": code}
        result = getattr(exc, "result", None)
        if result is not None and hasattr(result, "as_dict"):
            # what ran before the failure (executed, failed, steps ...): a deploy script must know
            payload = {**result.as_dict(), **payload}
        out.json(payload)
    return code


def confirm_or_refuse(what: str, yes: bool, out: Output) -> None:
    """Ask on a terminal; without one, refuse unless ``--yes`` was given (exit 2)."""
    if yes:
        return
    if not sys.stdin.isatty():
        message = f"refusing to {what} without confirmation: stdin is not a terminal. Pass --yes to confirm."
        out.error(message)
        if out.json_mode:
            out.json({"ok": False, "error": message, "error_type": "ConfirmationRequired", "exit_code": EXIT_USAGE})
        raise click.exceptions.Exit(EXIT_USAGE)
    try:
        confirmed = click.confirm(f"This will {what}. Continue?", default=False, err=True)
    except click.Abort:  # end of input (Ctrl-D) at the question: no answer is no
        click.echo(err=True)
        confirmed = False
    if not confirmed:
        out.note("Cancelled; nothing was changed.")
        if out.json_mode:  # the deploy script reading stdout gets its document, as for a refusal
            out.json({"ok": False, "error": "cancelled; nothing was changed", "error_type": "Cancelled", "exit_code": EXIT_FAILED})
        raise click.exceptions.Exit(EXIT_FAILED)
