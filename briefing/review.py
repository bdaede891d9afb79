"""Review: the changes an editor makes to a draft, each saved at once as the script on disk.

Each change names the draft version it was made on; a change made on an older version is refused
with what changed since (`StaleEdit`), so two editors never overwrite each other. A change is checked
like any input (control characters cleaned, lengths bounded, something left to say) before anything
is written, and recorded with what the draft was before it, so the last one can be undone. The
framing (intro, rundown, transitions, headlines, outro) is said anew after every change to the
stories, from the wording settings; a story's body segments are what the editor edits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from .config import Config
from .drafts import Candidate, DraftState, Edit, StoryLink, article_from_dict, read_draft, write_draft
from .errors import BriefingError, UsageError
from .files import output_lock
from .lexicon import LexiconEntry, save_lexicon_entry
from .normalize import to_spoken, unspeakable
from .plan import MAX_TITLE_CHARS, load_lexicon
from .script import MAX_SPOKEN_CHARS, Role, Script, Segment, Story, lay_out, read_script, script_from_dict, write_script
from .text import clean_text, strip_marks

MAX_WRITTEN_CHARS = 400  # a segment's written text, before normalization
MAX_HISTORY = 200  # changes kept per draft (the oldest go first)


class EditRefused(UsageError):
    """The change cannot be made as asked; the message says why."""


class StaleEdit(BriefingError):
    """The change was made on an older version of the draft."""

    def __init__(self, version: int, changes: list[Edit]) -> None:
        what = "; ".join(f"{e.action} {_where(e)}: {e.new or e.old}"[:120] for e in changes) or "the draft was changed"
        super().__init__(f"the draft changed since you loaded it (now version {version}): {what}; reload to see it")
        self.version, self.changes = version, changes


@dataclass(frozen=True)
class Draft:
    """A draft as the desk shows it: its script and its state."""

    folder: Path
    script: Script
    state: DraftState

    @property
    def date(self) -> dt.date:
        return self.script.date


def open_draft(folder: Path, config: Config) -> Draft:
    state = read_draft(folder)
    if state is None:
        raise UsageError(f"{folder}: no draft here (it was published, or never drafted)")
    return Draft(folder, read_script(folder / "script.json", load_lexicon(config)), state)


def change_draft(folder: Path, config: Config, version: int, action: str, **args: Any) -> Draft:
    """Make one change (an action of ACTIONS) to the draft in `folder`, made on `version`, and save it."""
    if action not in ACTIONS:
        raise EditRefused(f"unknown change {action!r}; known: {', '.join(ACTIONS)}")
    with output_lock(folder.parent):
        draft = open_draft(folder, config)
        _check_version(draft, version)
        script, links, candidates, edit = ACTIONS[action](draft, config, **args)
        if (script, links, candidates) == (draft.script, draft.state.links, draft.state.candidates):
            return draft  # saving what is already there is not a change
        before = {"script": draft.script.to_dict(), "links": [asdict(link) for link in draft.state.links]}
        before["candidates"] = [asdict(c) for c in draft.state.candidates]
        edit = replace(edit, time=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), action=action, before=before)
        state = replace(
            draft.state, links=links, candidates=candidates, history=(*draft.state.history, edit)[-MAX_HISTORY:], version=version + 1
        )
        return _save(Draft(folder, script, state))


def undo_last(folder: Path, config: Config, version: int) -> Draft:
    """Put the draft back as it was before its last change (a lexicon entry stays in the lexicon)."""
    with output_lock(folder.parent):
        draft = open_draft(folder, config)
        _check_version(draft, version)
        if not draft.state.history:
            raise EditRefused("there is no change to undo")
        before = draft.state.history[-1].before
        script = script_from_dict(before["script"], str(folder / "script.json"), load_lexicon(config))
        links = tuple(StoryLink(**link) for link in before["links"])
        candidates = tuple(Candidate.from_dict(c) for c in before["candidates"])
        state = replace(draft.state, links=links, candidates=candidates, history=draft.state.history[:-1], version=version + 1)
        return _save(Draft(folder, script, state))


def _save(draft: Draft) -> Draft:
    write_script(draft.script, draft.folder)
    write_draft(draft.folder, draft.state)
    return draft


def _check_version(draft: Draft, version: int) -> None:
    current = draft.state.version
    if version != current:
        since = list(draft.state.history[-(current - version) :]) if 0 < current - version else []
        raise StaleEdit(current, since[-5:])


def _where(edit: Edit) -> str:
    return f"segment {edit.segment}" if edit.segment else f"story {edit.story}" if edit.story else "the draft"


Change = tuple[Script, tuple[StoryLink, ...], tuple[Candidate, ...], Edit]


def _edit(story: int | None, segment: int | None, old: str, new: str) -> Edit:
    """What a change did; `change_draft` adds when, which action, and the draft before it."""
    return Edit(time="", action="", story=story, segment=segment, old=old, new=new, before={})


def edit_segment(draft: Draft, config: Config, segment: int, text: str = "", spoken: str = "") -> Change:
    """A body segment's written text (its spoken form is derived again), or its spoken form alone."""
    old = _segment(draft.script, segment)
    if old.role != Role.BODY:
        raise EditRefused(
            f"segment {segment} is the {old.role.value}: the intro, rundown, transitions and outro are said from the "
            "[wording] settings and the headlines; edit a headline or a story's text instead"
        )
    lexicon = load_lexicon(config)
    if spoken:
        new = replace(old, spoken=_bounded(spoken, MAX_SPOKEN_CHARS * 2, "the spoken form"))
        if cannot := sorted(unspeakable(new.spoken, latin=True)):
            raise EditRefused(f"the voice cannot say {' '.join(cannot)} in a spoken form; write it in characters (3 -> 三)")
    else:
        written = _bounded(text, MAX_WRITTEN_CHARS, "the text")
        new = replace(old, text=written, spoken=to_spoken(written, lexicon))
    if not strip_marks(new.spoken):
        raise EditRefused(f"segment {segment} would have nothing to say; give it words, or drop the story")
    if len(new.spoken) > MAX_SPOKEN_CHARS * 2:
        raise EditRefused(f"segment {segment} would say {len(new.spoken)} characters, over {MAX_SPOKEN_CHARS * 2}; shorten it")
    segments = list(draft.script.segments)
    segments[segment - 1] = new
    script = _with_summaries(replace(draft.script, segments=tuple(segments)))
    change = _edit(old.story, segment, old.spoken if spoken else old.text, new.spoken if spoken else new.text)
    return script, draft.state.links, draft.state.candidates, change


def retitle(draft: Draft, config: Config, story: int, title: str) -> Change:
    old = _story(draft.script, story)
    new = _bounded(title, MAX_TITLE_CHARS, "the headline")
    stories = [replace(s, title=new) if s.index == story else s for s in draft.script.stories]
    return _laid_out(draft, config, stories), draft.state.links, draft.state.candidates, _edit(story, None, old.title, new)


def drop_story(draft: Draft, config: Config, story: int) -> Change:
    old = _story(draft.script, story)
    if len(draft.script.stories) == 1:
        raise EditRefused("the episode needs at least one story; add another before dropping this one")
    stories = [s for s in draft.script.stories if s.index != story]
    links = tuple(link for s, link in zip(draft.script.stories, draft.state.links) if s.index != story)
    candidate = Candidate(old.title, old.source, "dropped by the editor", {}, draft.state.links[story - 1])
    script = _laid_out(draft, config, stories)
    return script, links, (*draft.state.candidates, candidate), _edit(story, None, old.title, "")


def move_story(draft: Draft, config: Config, story: int, by: int) -> Change:
    old = _story(draft.script, story)
    to = story + (1 if by > 0 else -1)
    if not 1 <= to <= len(draft.script.stories):
        raise EditRefused(f"story {story} is already {'last' if by > 0 else 'first'}")
    order = list(range(len(draft.script.stories)))
    order[story - 1], order[to - 1] = order[to - 1], order[story - 1]
    stories = [draft.script.stories[i] for i in order]
    links = tuple(draft.state.links[i] for i in order)
    return _laid_out(draft, config, stories), links, draft.state.candidates, _edit(story, None, old.title, f"to {to}")


def add_story(draft: Draft, config: Config, candidate: int) -> Change:
    """A candidate of the day, summarized as planning does, told last."""
    from .dedup import encode_signature, signature
    from .plan import plan_script

    if not 1 <= candidate <= len(draft.state.candidates):
        raise EditRefused(f"there is no candidate {candidate}")
    chosen = draft.state.candidates[candidate - 1]
    if chosen.article:
        article = article_from_dict(chosen.article)
        planned = plan_script((article,), config, draft.date).script
        story, body = planned.stories[0], planned.segments_of(1)
        story = replace(story, index=len(draft.script.stories) + 1)
        link = chosen.link
        if link.url and not link.signature:  # from a source: told.json records it signed as `choose` signs an item
            link = replace(link, signature=encode_signature(signature(article.body or article.title)))
    else:  # a story the editor dropped: it comes back from the history
        story, body, link = _dropped(draft, chosen)
    script = _laid_out(draft, config, [*draft.script.stories, story], {story.index: [s for s in body if s.role == Role.BODY]})
    links = (*draft.state.links, link)
    candidates = tuple(c for n, c in enumerate(draft.state.candidates, start=1) if n != candidate)
    return script, links, candidates, _edit(story.index, None, "", story.title)


def _dropped(draft: Draft, chosen: Candidate) -> tuple[Story, list[Segment], StoryLink]:
    for edit in reversed(draft.state.history):
        if edit.action == "drop" and edit.old == chosen.title:
            before = edit.before["script"]
            story = next(Story(**s) for s in before["stories"] if s["index"] == edit.story)
            body = [Segment.from_dict(s) for s in before["segments"] if s["story"] == edit.story and s["role"] == Role.BODY]
            return replace(story, index=len(draft.script.stories) + 1), body, chosen.link
    raise EditRefused(f"the dropped story 《{chosen.title}》 is no longer in the draft's history")


def set_reading(draft: Draft, config: Config, word: str, reading: str) -> Change:
    """Save how `word` is said (TONE3 pinyin, one syllable per character) in the lexicon, for this
    draft and every later episode; the draft's segments that hold the word are said anew."""
    from .lexicon import PINYIN_READING_RE
    from .pinyin import characters_for

    word = _bounded(word, 12, "the word")
    reading = " ".join(clean_text(reading).lower().split())
    if not PINYIN_READING_RE.fullmatch(reading) or len(reading.split()) != len(word):
        raise EditRefused(f"give one TONE3 syllable per character of {word}, such as 'chong2 qing4' for 重庆")
    try:
        characters_for(reading.split())
    except ValueError as exc:
        raise EditRefused(str(exc)) from None
    save_lexicon_entry(config.paths.lexicon_path, LexiconEntry(word, reading, "set on the review desk"))
    lexicon = load_lexicon(config)
    segments = tuple(replace(s, spoken=to_spoken(s.text, lexicon)) if word in s.text else s for s in draft.script.segments)
    return replace(draft.script, segments=segments), draft.state.links, draft.state.candidates, _edit(None, None, word, reading)


ACTIONS: dict[str, Callable[..., Change]] = {
    "edit": edit_segment,
    "headline": retitle,
    "drop": drop_story,
    "move": move_story,
    "add": add_story,
    "reading": set_reading,
}


def _laid_out(draft: Draft, config: Config, stories: list[Story], added: dict[int, list[Segment]] | None = None) -> Script:
    """The draft with `stories` in this order, each with its body segments (from the draft, or `added` for a new one)."""
    bodies = {s.index: _bodies(draft.script, s.index) for s in draft.script.stories} | (added or {})
    return lay_out(stories, bodies, draft.date, config, load_lexicon(config))


def _bodies(script: Script, story: int) -> list[Segment]:
    return [s for s in script.segments_of(story) if s.role == Role.BODY]


def _with_summaries(script: Script) -> Script:
    """Each story's summary, as its body segments now say it (script.md and episode.json show it)."""
    stories = tuple(replace(s, summary="".join(seg.text for seg in _bodies(script, s.index))) for s in script.stories)
    return replace(script, stories=stories)


def _segment(script: Script, number: int) -> Segment:
    if not 1 <= number <= len(script.segments):
        raise EditRefused(f"there is no segment {number}")
    return script.segments[number - 1]


def _story(script: Script, index: int) -> Story:
    found = next((s for s in script.stories if s.index == index), None)
    if found is None:
        raise EditRefused(f"there is no story {index}")
    return found


def _bounded(value: str, most: int, what: str) -> str:
    cleaned = " ".join(clean_text(str(value)).split())
    if not strip_marks(cleaned):
        raise EditRefused(f"{what} is empty")
    if len(cleaned) > most:
        raise EditRefused(f"{what} has {len(cleaned)} characters, over {most}")
    return cleaned
