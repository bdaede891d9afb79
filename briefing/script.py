"""Script: summaries into the ordered segments a voice reads, with written and spoken text."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

from .config import Config
from .errors import ScriptError
from .files import write_atomically
from .normalize import Lexicon, to_spoken
from .summarize import Summary
from .text import clean_text, split_clauses, split_sentences, strip_marks

# The offline engine's frontend handles at most this many characters well in one call.
MAX_SPOKEN_CHARS = 60
WEEKDAYS = "一二三四五六日"


class Role(str, Enum):
    INTRO = "intro"
    RUNDOWN = "rundown"
    TRANSITION = "transition"
    TITLE = "title"
    BODY = "body"
    OUTRO = "outro"


class Pause(str, Enum):
    """The silence after a segment, by the structure it closes."""

    CLAUSE = "clause"
    SENTENCE = "sentence"
    PARAGRAPH = "paragraph"
    STORY = "story"


@dataclass(frozen=True)
class Segment:
    """One synthesis unit: at most MAX_SPOKEN_CHARS of spoken text, cut at a clause boundary."""

    story: int | None
    role: Role
    text: str
    spoken: str
    pause: Pause = Pause.SENTENCE

    def to_dict(self) -> dict[str, object]:
        return {"story": self.story, "role": self.role.value, "text": self.text, "spoken": self.spoken, "pause": self.pause.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        return cls(data["story"], Role(data["role"]), data["text"], data["spoken"], Pause(data.get("pause", "sentence")))


@dataclass(frozen=True)
class Story:
    index: int
    title: str
    summary: str
    kicker: str = ""
    byline: str = ""
    source: str = ""
    summarizer: str = "extractive"  # extractive, llm:<model>, or extractive with the reason the LLM's was not used

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "title": self.title,
            "kicker": self.kicker,
            "byline": self.byline,
            "source": self.source,
            "summary": self.summary,
            "summarizer": self.summarizer,
        }


@dataclass(frozen=True)
class Script:
    programme: str
    date: dt.date
    stories: tuple[Story, ...]
    segments: tuple[Segment, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "programme": self.programme,
            "date": self.date.isoformat(),
            "stories": [story.to_dict() for story in self.stories],
            "segments": [segment.to_dict() for segment in self.segments],
        }

    def segments_of(self, story: int | None) -> list[Segment]:
        return [segment for segment in self.segments if segment.story == story]


def build_script(
    summaries: list[Summary],
    date: dt.date,
    config: Config = Config(),
    lexicon: Lexicon | None = None,
    kickers: list[str] | None = None,
    sources: list[str] | None = None,
) -> Script:
    """Lay out intro, rundown, each story (transition, title, summary) and outro."""
    if not summaries:
        raise ScriptError("there is no story to read")
    speak = _Speaker(lexicon)
    count = len(summaries)
    stories = [
        Story(
            index=index,
            title=summary.title,
            summary=summary.text,
            kicker=(kickers or [""] * count)[index - 1],
            byline=summary.byline,
            source=(sources or [""] * count)[index - 1],
            summarizer=summary.by,
        )
        for index, summary in enumerate(summaries, start=1)
    ]
    bodies = {story.index: speak.segments(story.summary, story.index, Role.BODY, Pause.STORY) for story in stories}
    return lay_out(stories, bodies, date, config, lexicon)


def lay_out(
    stories: Sequence[Story], bodies: Mapping[int, Sequence[Segment]], date: dt.date, config: Config, lexicon: Lexicon | None = None
) -> Script:
    """The script that reads `stories` in this order, each with its body segments (by the story's
    index): the intro, rundown, transitions, titles and outro are said anew from the wording and
    the headlines, and the stories are numbered 1, 2, … in order."""
    speak = _Speaker(lexicon)
    count = len(stories)
    intro = config.wording.intro.format(
        programme=config.wording.programme,
        date=f"{date.year}年{date.month}月{date.day}日",
        weekday="星期" + WEEKDAYS[date.weekday()],
        count=count,
    )
    segments = speak.segments(intro, None, Role.INTRO, Pause.PARAGRAPH)
    rundown = config.wording.rundown + "；".join(_spoken_title(s.title) for s in stories) + "。"
    segments += speak.segments(rundown, None, Role.RUNDOWN, Pause.STORY)
    numbered = []
    for index, story in enumerate(stories, start=1):
        if index == count and count > 1:
            transition = config.wording.last_transition
        else:
            transition = config.wording.transitions[(index - 1) % len(config.wording.transitions)]
        segments += speak.segments(transition, index, Role.TRANSITION, Pause.CLAUSE)
        segments += speak.segments(_spoken_title(story.title) + "。", index, Role.TITLE, Pause.PARAGRAPH)
        segments += [replace(segment, story=index) for segment in bodies[story.index]]
        numbered.append(replace(story, index=index))
    segments += speak.segments(config.wording.outro.format(programme=config.wording.programme), None, Role.OUTRO, Pause.SENTENCE)
    return Script(programme=config.wording.programme, date=date, stories=tuple(numbered), segments=tuple(segments))


# A column tag in a headline ('（今日谈）', '【…】') names the page's column: shown, not read.
_COLUMN_TAG_RE = re.compile(r"^\s*(?:【[^】]*】|〔[^〕]*〕|［[^］]*］|[（(][^（）()]*[）)])\s*|\s*(?:【[^】]*】|[（(][^（）()]*[）)])\s*$")


def _spoken_title(title: str) -> str:
    # A headline's halves are separated by a space on the page; read them as one phrase.
    spoken = _COLUMN_TAG_RE.sub("", title.strip()) or title.strip()
    return re.sub(r"\s+", "，", spoken.strip())


class _Speaker:
    """Turns written text into segments, normalizing clause by clause so the two stay aligned."""

    def __init__(self, lexicon: Lexicon | None) -> None:
        self.lexicon = lexicon

    def spoken(self, text: str) -> str:
        return to_spoken(text, self.lexicon)

    def segments(self, text: str, story: int | None, role: Role, last_pause: Pause) -> list[Segment]:
        pieces: list[tuple[str, str, Pause]] = []
        for sentence in split_sentences(text):
            # Within a sentence a segment may end at a comma, a semicolon or a colon, never at '、'.
            clauses = [(c, self.spoken(c)) for c in split_clauses(sentence, "，；：")]
            packed = self._pack(clauses)
            for n, (written, spoken) in enumerate(packed):
                pieces.append((written, spoken, Pause.SENTENCE if n == len(packed) - 1 else Pause.CLAUSE))
        pieces = [piece for piece in pieces if strip_marks(piece[1])]
        if pieces:
            written, spoken, _ = pieces[-1]
            pieces[-1] = (written, spoken, last_pause)
        return [Segment(story, role, written, spoken, pause) for written, spoken, pause in pieces]

    def _pack(self, clauses: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Join neighbouring clauses while the spoken text stays within MAX_SPOKEN_CHARS."""
        packed: list[tuple[str, str]] = []
        for written, spoken in self._split_long(clauses):
            if packed and len(packed[-1][1]) + len(spoken) <= MAX_SPOKEN_CHARS:
                packed[-1] = (packed[-1][0] + written, packed[-1][1] + spoken)
            else:
                packed.append((written, spoken))
        return packed

    def _split_long(self, clauses: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """A clause too long for one segment is cut at '、', else between words."""
        result: list[tuple[str, str]] = []
        for written, spoken in clauses:
            if len(spoken) <= MAX_SPOKEN_CHARS:
                result.append((written, spoken))
                continue
            parts = split_clauses(written, "、")
            if len(parts) == 1:
                parts = _word_halves(written)
            result.extend(self._split_long([(part, self.spoken(part)) for part in parts]))
        return result


def _word_halves(text: str) -> list[str]:
    import jieba

    words = jieba.lcut(text)
    if len(words) < 2:
        middle = len(text) // 2
        return [text[:middle], text[middle:]]
    total, running = len(text), 0
    for i, word in enumerate(words):
        running += len(word)
        if running >= total / 2:
            cut = max(1, min(i + 1, len(words) - 1))
            return ["".join(words[:cut]), "".join(words[cut:])]
    return [text]


def write_script(script: Script, out_dir: Path) -> Path:
    """Write script.json (for engines and editors) and script.md (for reading); return the JSON path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "script.json"
    write_atomically(json_path, json.dumps(script.to_dict(), ensure_ascii=False, indent=2).encode("utf-8"))
    write_atomically(out_dir / "script.md", script_markdown(script).encode("utf-8"))
    return json_path


def script_markdown(script: Script) -> str:
    lines = [f"# {script.programme} {script.date.isoformat()}", ""]
    lines += ["## 开场", ""] + [segment.text for segment in script.segments_of(None) if segment.role != Role.OUTRO] + [""]
    for story in script.stories:
        lines += [f"## {story.index}. {story.title}", ""]
        if story.kicker:
            lines += [f"*{story.kicker}*", ""]
        lines += [story.summary, ""]
        if story.byline:
            lines += [f"（{story.byline}）", ""]
    lines += ["## 结束", ""] + [segment.text for segment in script.segments if segment.role == Role.OUTRO] + [""]
    lines += ["---", "", "Spoken form sent to the voice:", ""]
    lines += [f"{n}. `{segment.role.value}` {segment.spoken}" for n, segment in enumerate(script.segments, start=1)]
    return "\n".join(lines) + "\n"


def read_script(path: Path, lexicon: Lexicon | None = None) -> Script:
    """Load a script.json, possibly edited: a segment with an empty `spoken` is normalized anew.

    Everything is checked before any work is done: each segment's story exists, each has something
    to say within the length an engine takes, and there is at least one story segment."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScriptError(f"{path}: cannot read the script ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ScriptError(f"{path}: the script is not UTF-8 text; save it as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ScriptError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return script_from_dict(data, str(path), lexicon)


def script_from_dict(data: Any, path: str, lexicon: Lexicon | None = None) -> Script:
    """A script from its JSON form, checked as `read_script` says; `path` names it in errors."""
    try:
        stories = tuple(
            Story(
                index=int(s["index"]),
                title=clean_text(str(s["title"])),
                summary=clean_text(str(s.get("summary", ""))),
                kicker=clean_text(str(s.get("kicker", ""))),
                byline=clean_text(str(s.get("byline", ""))),
                source=clean_text(str(s.get("source", ""))),
                summarizer=clean_text(str(s.get("summarizer", "extractive"))),
            )
            for s in data["stories"]
        )
        indices = {story.index for story in stories}
        segments = []
        for n, s in enumerate(data["segments"], start=1):
            text = clean_text(str(s["text"]))
            spoken = clean_text(str(s.get("spoken") or "")) or to_spoken(text, lexicon)
            story = s["story"]
            if story is not None and (not isinstance(story, int) or story not in indices):
                raise ScriptError(
                    f"{path}: segment {n} belongs to story {story!r}, which the script does not have (stories: {sorted(indices)})"
                )
            if not strip_marks(spoken):
                raise ScriptError(f"{path}: segment {n} has nothing to say; give it text or remove it")
            if len(spoken) > MAX_SPOKEN_CHARS * 2:  # an edit may run long; twice the usual segment still synthesizes
                raise ScriptError(
                    f"{path}: segment {n} has {len(spoken)} spoken characters, over {MAX_SPOKEN_CHARS * 2}; split it into two segments"
                )
            segments.append(Segment(story=story, role=Role(s["role"]), text=text, spoken=spoken, pause=Pause(s.get("pause", "sentence"))))
        if not any(segment.story is not None for segment in segments):
            raise ScriptError(f"{path}: the script has no story segment; there is nothing to publish")
        return Script(
            programme=clean_text(str(data["programme"])),
            date=dt.date.fromisoformat(data["date"]),
            stories=stories,
            segments=tuple(segments),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ScriptError):
            raise
        raise ScriptError(f"{path}: not a briefing script ({type(exc).__name__}: {exc})") from None
