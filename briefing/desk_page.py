"""The review desk's pages: plain HTML that works on a phone and with the keyboard alone, and a
little JavaScript that posts each change and reloads (the script on disk is the state)."""

from __future__ import annotations

import base64
import hashlib
import wave
from html import escape
from pathlib import Path
from typing import Any

from .config import Config
from .episode import Manifest, clock
from .review import Draft
from .script import Role, Segment
from .text import is_url

STYLE = """
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;background:#f4f6fa;color:#1d2433;line-height:1.5}
header{background:#123a7a;color:#fff;padding:1rem}header h1{margin:0 0 .3rem;font-size:1.3rem}header p{margin:.2rem 0}
header a{color:#cfe0ff}main{max-width:48rem;margin:0 auto;padding:.8rem}
section{background:#fff;border-radius:.6rem;padding:.8rem;margin-bottom:1rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:0 0 .4rem}.meta{color:#5b6475;font-size:.9rem;margin:.2rem 0 .6rem}
.bar,.tools{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0}
button{font:inherit;min-height:2.6rem;padding:.3rem .8rem;border-radius:.4rem;border:1px solid #123a7a;background:#fff;color:#123a7a;cursor:pointer}
button.primary{background:#0a7a3a;border-color:#0a7a3a;color:#fff}button:disabled{opacity:.5;cursor:default}
button:focus-visible,a:focus-visible,textarea:focus-visible,input:focus-visible{outline:3px solid #f0a000;outline-offset:2px}
.segment{border-top:1px solid #e3e7ef;padding:.6rem 0}.role{font-size:.8rem;color:#5b6475;text-transform:uppercase;letter-spacing:.05em}
label{display:block;font-size:.85rem;color:#5b6475;margin-top:.4rem}
textarea,input[type=text]{display:block;width:100%;font:inherit;padding:.4rem;border:1px solid #b9c2d3;border-radius:.4rem}
textarea{min-height:4.5rem}audio{width:100%;max-width:24rem;height:2.5rem}.spoken{color:#38506f}
.syllables ruby{margin-right:.15rem}.syllables rt{font-size:.7rem;color:#5b6475}.poly{color:#b0004a;font-weight:600}
#status{position:sticky;top:0;z-index:2;margin:0}#status:empty{display:none}
#status{padding:.6rem 1rem;background:#e8f5ec;color:#0a5a2a}#status.bad{background:#fdecee;color:#8a0020}
.state{display:inline-block;padding:0 .4rem;border-radius:.3rem;background:#ffe9a8;color:#5a4200;font-size:.85rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.4rem;border-bottom:1px solid #e3e7ef}
"""

SCRIPT = """
const desk = document.body.dataset;
const said = document.getElementById('status');
const NUMBERS = ['segment', 'story', 'by', 'candidate'];
function say(text, bad) { said.textContent = text; said.className = bad ? 'bad' : ''; if (bad) said.focus(); }
async function post(path, body) {
  const response = await fetch(path, {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-Briefing-Desk': desk.csrf}, body: JSON.stringify(body)});
  let data = {};
  try { data = await response.json(); } catch (e) {}
  return [response.status, data];
}
function reloadAt(anchor, message) {
  sessionStorage.setItem('desk-said', message);
  if (anchor) history.replaceState(null, '', '#' + anchor);
  location.reload();
}
async function change(body, anchor) {
  for (const key of NUMBERS) if (key in body) body[key] = parseInt(body[key], 10);
  body.version = parseInt(desk.version, 10);
  say('Saving…');
  const [status, data] = await post('change', body);
  if (status === 200) reloadAt(anchor, 'Saved.');
  else say(data.error || ('The desk answered ' + status), true);
}
document.addEventListener('submit', function (event) {
  const form = event.target.closest('form[data-action]');
  if (!form) return;
  event.preventDefault();
  change(Object.assign({action: form.dataset.action}, Object.fromEntries(new FormData(form))), form.dataset.anchor);
});
document.addEventListener('keydown', function (event) {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && event.target.form) event.target.form.requestSubmit();
});
async function listen(button) {
  const number = button.dataset.listen;
  const audio = document.getElementById('audio-' + number);
  button.disabled = true;
  button.textContent = 'Making…';
  const [status, data] = await post('listen', {segment: parseInt(number, 10)});
  let state = data.state;
  while (status === 200 && state === 'making') {
    await new Promise(resolve => setTimeout(resolve, 300));
    const answer = await fetch('../jobs/' + data.job, {credentials: 'same-origin'});
    const job = await answer.json();
    state = job.state;
    if (state === 'failed') say('Could not make segment ' + number + ': ' + job.error, true);
  }
  button.disabled = false;
  button.textContent = 'Listen';
  if (status !== 200) { say(data.error || ('The desk answered ' + status), true); return; }
  if (state !== 'made') return;
  audio.src = 'segment/' + number + '.wav?t=' + Date.now();
  audio.hidden = false;
  const playing = audio.play();
  if (playing) playing.catch(function () {});
  refreshSummary(number);
}
async function refreshSummary(number) {
  const page = new DOMParser().parseFromString(await (await fetch(location.pathname, {credentials: 'same-origin'})).text(), 'text/html');
  for (const id of ['length', 'rundown', 'made-' + number]) {
    const fresh = page.getElementById(id);
    if (fresh) document.getElementById(id).replaceWith(fresh);
  }
}
document.addEventListener('click', async function (event) {
  const button = event.target.closest('button');
  if (!button) return;
  if (button.dataset.listen) return listen(button);
  if (button.dataset.action) return change(Object.assign({}, button.dataset), button.dataset.anchor);
  if ('undo' in button.dataset) {
    const [status, data] = await post('undo', {version: parseInt(desk.version, 10)});
    return status === 200 ? reloadAt('', 'The last change was undone.') : say(data.error, true);
  }
  if ('publish' in button.dataset) {
    button.disabled = true;
    say('Publishing: only changed segments are made…');
    const [status, data] = await post('publish', {});
    if (status === 200) return reloadAt('', 'Published.');
    button.disabled = false;
    say(data.error || ('The desk answered ' + status), true);
  }
});
const before = sessionStorage.getItem('desk-said');
if (before) { sessionStorage.removeItem('desk-said'); say(before); }
"""


# The desk's pages run their one script and nothing else, even if a headline smuggled markup past the escaping.
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src 'sha256-{_SCRIPT_HASH}'; style-src 'unsafe-inline'; media-src 'self'; "
    "connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def _page(title: str, body: str, data: str = "") -> str:
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title><style>{STYLE}</style></head>'
        f'<body{data}><p id="status" role="status" aria-live="polite" tabindex="-1"></p>{body}<script>{SCRIPT}</script></body></html>'
    )


def index_page(days: list[tuple[str, str]]) -> str:
    rows = "".join(f'<tr><td><a href="{name}/">{name}</a></td><td>{escape(state)}</td></tr>' for name, state in days)
    table = (
        f"<table><tr><th>Day</th><th>State</th></tr>{rows}</table>"
        if rows
        else "<p>No episode yet: make a draft with briefing daily --draft.</p>"
    )
    return _page(
        "Review desk", f"<header><h1>Review desk</h1><p>Drafts and recent episodes</p></header><main><section>{table}</section></main>"
    )


def day_page(draft: Draft, config: Config, csrf: str, made: list[Path | None]) -> str:
    """The draft as it will be heard, with a control for every change the desk makes."""
    script, state = draft.script, draft.state
    seconds = [_seconds(path, segment, config) for path, segment in zip(made, script.segments)]
    numbered = list(enumerate(script.segments, start=1))
    frame = [(n, s) for n, s in numbered if s.story is None]
    parts = [
        f"<header><h1>{escape(script.programme)} {script.date.isoformat()}</h1>",
        f'<p id="length"><span class="state">draft</span> version {state.version} · about {clock(sum(seconds))} · '
        f"{sum(p is not None for p in made)} of {len(made)} segments made</p>",
        '<div class="bar"><button class="primary" data-publish>Approve and publish</button>',
        f'<button data-undo{"" if state.history else " disabled"}>Undo last change</button><a href="../">All days</a></div></header><main>',
        _rundown(draft, numbered, seconds),
        "<section><h2>Opening</h2>" + "".join(_segment(n, s, made[n - 1]) for n, s in frame if s.role != Role.OUTRO) + "</section>",
    ]
    for story, link in zip(script.stories, state.links):
        parts.append(_story(story, link.url, [(n, s) for n, s in numbered if s.story == story.index], made, len(script.stories)))
    parts.append(
        "<section><h2>Closing</h2>" + "".join(_segment(n, s, made[n - 1]) for n, s in frame if s.role == Role.OUTRO) + "</section>"
    )
    parts += [_candidates(draft), _history(draft), "</main>"]
    data = f' data-csrf="{csrf}" data-version="{state.version}"'
    return _page(f"Review {script.date.isoformat()}", "".join(parts), data)


def _rundown(draft: Draft, numbered: list[tuple[int, Segment]], seconds: list[float]) -> str:
    items = []
    for story in draft.script.stories:
        length = sum(seconds[n - 1] for n, s in numbered if s.story == story.index)
        items.append(f'<li><a href="#story-{story.index}">{escape(story.title)}</a> · {clock(length)}</li>')
    return f'<section id="rundown"><h2>Rundown</h2><ol>{"".join(items)}</ol></section>'


def _story(story: Any, url: str, segments: list[tuple[int, Segment]], made: list[Path | None], count: int) -> str:
    i = story.index
    # A feed's link could be javascript:; only a web address is a link.
    link = f' · <a href="{escape(url)}" rel="noreferrer noopener" target="_blank">source page</a>' if is_url(url) else ""
    meta = f"{escape(story.source or 'page')}{link} · {escape(story.summarizer)}" + (f" · {escape(story.byline)}" if story.byline else "")
    up = f'<button data-action="move" data-story="{i}" data-by="-1" data-anchor="story-{i - 1}"{" disabled" if i == 1 else ""}>Move up</button>'
    down = f'<button data-action="move" data-story="{i}" data-by="1" data-anchor="story-{i + 1}"{" disabled" if i == count else ""}>Move down</button>'
    drop = f'<button data-action="drop" data-story="{i}"{" disabled" if count == 1 else ""}>Drop story</button>'
    headline = (
        f'<form data-action="headline" data-anchor="story-{i}"><input type="hidden" name="story" value="{i}">'
        f'<label for="title-{i}">Headline</label><input type="text" id="title-{i}" name="title" value="{escape(story.title)}" maxlength="60">'
        "<button>Save headline</button></form>"
    )
    body = "".join(_segment(n, s, made[n - 1]) for n, s in segments)
    return f'<section class="story" id="story-{i}"><h2>{i}. {escape(story.title)}</h2><p class="meta">{meta}</p>{headline}<div class="tools">{up}{down}{drop}</div>{body}</section>'


def _segment(n: int, segment: Segment, made: Path | None) -> str:
    source = f' src="segment/{n}.wav"' if made else " hidden"
    audio = f'<audio id="audio-{n}" controls preload="none"{source}></audio>'
    head = f'<div class="tools"><span class="role" id="made-{n}">{segment.role.value} · {"made" if made else "not made yet"}</span>'
    head += f'<button data-listen="{n}" aria-label="Listen to segment {n}">Listen</button></div>{audio}'
    if segment.role == Role.BODY:
        forms = (
            f'<form data-action="edit" data-anchor="seg-{n}"><input type="hidden" name="segment" value="{n}">'
            f'<label for="text-{n}">Written (the spoken form is derived from it)</label><textarea id="text-{n}" name="text" maxlength="400">{escape(segment.text)}</textarea>'
            "<button>Save text</button></form>"
            f'<form data-action="edit" data-anchor="seg-{n}"><input type="hidden" name="segment" value="{n}">'
            f'<label for="spoken-{n}">Spoken form (what the voice gets)</label><textarea id="spoken-{n}" name="spoken" class="spoken" maxlength="120">{escape(segment.spoken)}</textarea>'
            "<button>Save spoken form</button></form>"
        )
    else:
        forms = f'<p>{escape(segment.text)}</p><p class="spoken">{escape(segment.spoken)}</p>'
    return f'<div class="segment" id="seg-{n}">{head}{forms}{_pronunciation(n, segment)}</div>'


def _pronunciation(n: int, segment: Segment) -> str:
    from .pinyin import is_han, is_polyphone, spoken_syllables

    chars = [c for c in segment.spoken if is_han(c)]
    syllables = spoken_syllables(segment.spoken)
    if len(syllables) == len(chars):
        shown = "".join(f"<ruby{' class=poly' if is_polyphone(c) else ''}>{escape(c)}<rt>{s}</rt></ruby>" for c, s in zip(chars, syllables))
    else:
        shown = escape(" ".join(syllables))
    return (
        f'<details><summary>Pronunciation</summary><p class="syllables">{shown}</p><p class="meta">Marked: characters with more than one reading.</p>'
        f'<form data-action="reading" data-anchor="seg-{n}"><label for="word-{n}">Word</label><input type="text" id="word-{n}" name="word" maxlength="12">'
        f'<label for="reading-{n}">Its reading, one TONE3 syllable per character</label><input type="text" id="reading-{n}" name="reading" placeholder="chong2 qing4">'
        "<button>Set reading for every episode</button></form></details>"
    )


def _candidates(draft: Draft) -> str:
    if not draft.state.candidates:
        return "<section><h2>Other stories of the day</h2><p>None: every story of the day is in the draft.</p></section>"
    rows = "".join(
        f'<li>{escape(c.title)} <span class="meta">({escape(c.source or "page")}: {escape(c.why)})</span> '
        f'<button data-action="add" data-candidate="{k}" data-anchor="story-{len(draft.script.stories) + 1}">Add</button></li>'
        for k, c in enumerate(draft.state.candidates, start=1)
    )
    return f"<section><h2>Other stories of the day</h2><ul>{rows}</ul></section>"


def _history(draft: Draft) -> str:
    if not draft.state.history:
        return "<section><h2>Changes</h2><p>No change yet.</p></section>"
    rows = "".join(
        f"<li>{escape(e.time)} · {escape(e.action)}"
        + (f" · segment {e.segment}" if e.segment else f" · story {e.story}" if e.story else "")
        + f": <del>{escape(e.old)}</del> → <ins>{escape(e.new)}</ins></li>"
        for e in reversed(draft.state.history)
    )
    return f"<section><h2>Changes</h2><ol reversed>{rows}</ol></section>"


def published_page(name: str, manifest: Manifest, approval: dict[str, Any]) -> str:
    made = f"{approval['made']} segments made, {approval['reused']} reused · " if "made" in approval else ""
    edits = approval.get("edits", [])
    return _page(
        f"Published {name}",
        f"<header><h1>{escape(manifest.title)}</h1><p>published · {clock(manifest.duration)} · {manifest.integrated_lufs:.1f} LUFS</p>"
        f'<div class="bar"><a href="../">All days</a></div></header><main><section>'
        f'<audio controls preload="metadata" src="/{name}/{manifest.audio_file}"></audio>'
        f"<p>{made}{len(edits)} changes on the desk{' · approved ' + escape(approval['approved']) if 'approved' in approval else ''}</p>"
        f"<ol>{''.join(f'<li>{escape(s.title)}</li>' for s in manifest.stories)}</ol></section></main>",
    )


def _seconds(path: Path | None, segment: Segment, config: Config) -> float:
    """A made segment's length, else its length at the programme's speaking rate."""
    if path is not None:
        try:
            with wave.open(str(path), "rb") as reader:
                return reader.getnframes() / reader.getframerate()
        except (OSError, EOFError, wave.Error):
            pass
    return len(segment.spoken) / config.wording.chars_per_second
