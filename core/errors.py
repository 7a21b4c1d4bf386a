"""The one error family. Every message names the file, key or address at fault."""

from __future__ import annotations


class ExecReportError(Exception):
    """A problem a person can fix; the CLI prints it as one line and exits with `exit_code`."""

    exit_code = 1


class ConfigError(ExecReportError):
    """The configuration (file, environment or command line) is wrong."""

    exit_code = 2


class PluginError(ExecReportError):
    """Plugins clash or misbehave (two plugins registering one name, say)."""

    exit_code = 2


class DataError(ExecReportError):
    """An entity's data cannot be read: `path:line: what is wrong`."""

    exit_code = 1


class DeliveryError(ExecReportError):
    """A sender cannot deliver, or its preflight failed.

    `stop=True` ends the run cleanly (a daily quota reached): what is left stays pending.
    `uncertain=True`: the message may have gone out (a timeout after the request, a partial
    send); the delivery is recorded as uncertain and not resent without `--resend`.
    """

    exit_code = 1

    def __init__(self, message: str, *, stop: bool = False, uncertain: bool = False) -> None:
        super().__init__(message)
        self.stop = stop
        self.uncertain = uncertain


class GuardError(ExecReportError):
    """Content guards stopped the run: stale, missing or empty data. One line per problem."""

    exit_code = 1

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
