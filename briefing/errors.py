"""The exceptions briefing raises: one base, one subclass per stage."""


class BriefingError(Exception):
    """Anything the user can act on; the CLI prints it as one `Error:` line."""


class UsageError(BriefingError, ValueError):
    """A command-line choice names something that does not exist (a voice preset, an engine): exit code 2."""


class InputError(BriefingError, ValueError):
    """An input page cannot be read or holds no article."""


class SourceError(BriefingError, RuntimeError):
    """A configured source could not be fetched or read; the other sources still make the episode."""


class ConfigError(BriefingError, ValueError):
    """briefing.toml, a voice preset or the lexicon is invalid."""


class ScriptError(BriefingError, ValueError):
    """A script file cannot be read or does not fit the expected shape."""


class EngineUnavailableError(BriefingError, RuntimeError):
    """A TTS engine cannot run here; the message says what to install."""


class SynthesisError(BriefingError, RuntimeError):
    """A TTS engine failed on a segment."""


class AssemblyError(BriefingError, RuntimeError):
    """The episode could not be assembled, encoded or written."""


class OutputError(BriefingError, OSError):
    """A result could not be written (disk full, no permission); earlier files are left as they were."""


class OutputBusy(OutputError):
    """Another briefing run holds the output folder's lock; trying again later may succeed."""


class SpeakerError(BriefingError, RuntimeError):
    """A speaker could not be found, reached, or made to play."""
