"""Property tests: any text at all through ingest, normalization and the script builder gives stories
whose spoken text is speakable and whose written text is XML-safe, or one clear error; never a trace."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from briefing.config import Config
from briefing.errors import BriefingError
from briefing.ingest import parse_page
from briefing.normalize import to_spoken, unspeakable
from briefing.plan import plan_script
from briefing.script import MAX_SPOKEN_CHARS

# Characters real pages and hostile ones hold: Chinese text and marks, digits, Latin, symbols the
# normalizer reads, headline markers, controls, invisible marks and lone surrogates.
SPECIAL = list("中文新闻区委书记会议，。！？、；：“”（）《》#\n\t -—~%‰℃°$¥€.:/@^≠≥²³0123456789aZ") + [
    "\x00",
    "\x07",
    "\x0b",
    "\x1b",
    "\x7f",
    "\x85",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\ufffe",
    "\ud800",
    "\udfff",
    "\U0001f600",
]
ANY_TEXT = st.text(alphabet=st.one_of(st.sampled_from(SPECIAL), st.characters()), max_size=400)
PAGES = st.lists(st.tuples(st.text(alphabet=st.sampled_from(SPECIAL), max_size=30), ANY_TEXT), min_size=1, max_size=4).map(
    lambda articles: "".join(f"# {title}\n{body}\n\n" for title, body in articles)
)
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def xml_safe(text: str) -> bool:
    try:
        etree.Element("x").text = text
    except ValueError:
        return False
    return True


@PROPERTY
@given(ANY_TEXT)
def test_normalization_of_any_text_is_speakable(text: str):
    spoken = to_spoken(text)
    assert unspeakable(spoken) == set(), (text, spoken)


@PROPERTY
@given(st.one_of(ANY_TEXT, PAGES))
def test_ingest_of_any_text_gives_xml_safe_articles(text: str):
    for article in parse_page(text):
        for field in (article.kicker, article.headline, article.subtitle, article.byline, *article.paragraphs):
            assert xml_safe(field), field


@PROPERTY
@given(PAGES)
def test_the_script_for_any_page_is_speakable_or_one_clear_error(text: str):
    articles = tuple(parse_page(text))
    try:
        planned = plan_script(articles, Config(), dt.date(2026, 11, 26))
    except BriefingError as error:
        assert str(error) and "\n" not in str(error).strip()
        return
    for segment in planned.script.segments:
        assert unspeakable(segment.spoken) == set() and 0 < len(segment.spoken) <= MAX_SPOKEN_CHARS, segment
        assert xml_safe(segment.text), segment
