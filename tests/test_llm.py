"""LLM summaries against a local chat completions server: a good answer is used and cached; every
way an endpoint fails falls back to the extractive summary for that story, and says so."""

import datetime as dt
import json
from pathlib import Path

import pytest

from briefing import pipeline
from briefing.config import Config
from briefing.errors import ConfigError
from briefing.ingest import Article, parse_page
from briefing.llm import TOKENS_PER_CHARACTER, LlmUnusable, check_answer

from .fakes.chat_service import ChatService
from .fakes.local_server import serving

NEWS = Path(__file__).parent / "news"
DAY = dt.date(2026, 11, 26)
PAGE = "".join(
    f"# {title}\n{(NEWS / f'{name}.txt').read_text(encoding='utf-8')}\n"
    for name, title in [("school", "我市三所新建公办学校投入使用"), ("metro", "地铁五号线一期今天开通")]
)


@pytest.fixture
def chat():
    service = ChatService()
    with serving(service.app()) as base:
        service.base = base  # type: ignore[attr-defined]
        yield service


def llm_config(chat: ChatService, tmp_path: Path, model: str, timeout: float = 30) -> Config:
    return Config.from_dict(
        {
            "summarizer": "llm",
            "story_seconds": 20,
            "cache_dir": str(tmp_path / "cache"),
            "llm": {"base_url": f"{chat.base}/v1", "model": model, "api_key_env": "BRIEFING_TEST_LLM_KEY", "timeout": timeout},  # type: ignore[attr-defined]
        }
    )


def test_a_good_answer_is_read_and_cached_and_the_key_stays_in_the_environment(
    chat: ChatService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BRIEFING_TEST_LLM_KEY", "sk-test-secret")
    config = llm_config(chat, tmp_path, "good")
    planned = pipeline.plan_script(tuple(parse_page(PAGE)), config, DAY)
    assert planned.warnings == ()
    assert [s.summarizer for s in planned.script.stories] == ["llm:good", "llm:good"]
    assert planned.script.stories[0].summary.startswith("今年秋季学期，我市新建的三所公办学校正式投入使用")
    assert chat.requests["good"] == 2 and set(chat.keys) == {"Bearer sk-test-secret"}
    pipeline.plan_script(tuple(parse_page(PAGE)), config, DAY)
    assert chat.requests["good"] == 2  # the rerun costs no tokens
    written = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "cache").rglob("*.json"))
    assert "sk-test-secret" not in written and "sk-test-secret" not in json.dumps(config.to_dict())


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("invent", "numbers not in the article: 9999"),
        ("english", "not Chinese"),
        ("refuse", "declined"),
        pytest.param("error", "answered 500", marks=pytest.mark.slow),
        ("locked", "refused the API key (401): check $BRIEFING_TEST_LLM_KEY"),
        ("malformed", "no usable answer"),
        ("empty", "an empty answer"),
        pytest.param("slow", "no answer within 1 s", marks=pytest.mark.slow),
        pytest.param("trickle", "no answer within 1 s", marks=pytest.mark.slow),  # a byte at a time: 1 s in all, not per byte
        ("huge", "a reply over 1 MB"),
        ("html", "not the API's JSON"),
    ],
)
def test_an_unusable_answer_falls_back_to_the_extractive_summary(chat: ChatService, tmp_path: Path, model: str, reason: str):
    config = llm_config(chat, tmp_path, model, timeout=1)
    planned = pipeline.plan_script(tuple(parse_page(PAGE)), config, DAY)
    stories = planned.script.stories
    assert all(s.summarizer.startswith("extractive (llm: ") and reason in s.summarizer for s in stories), [s.summarizer for s in stories]
    assert (
        len(planned.warnings) == 1
        and planned.warnings[0].startswith("2 stories use the extractive summary")
        and reason in planned.warnings[0]
    )
    assert stories[0].summary.startswith("今年秋季学期")  # the extractive summary, as without an LLM


@pytest.mark.slow
def test_a_rate_limit_is_waited_out(chat: ChatService, tmp_path: Path):
    planned = pipeline.plan_script(tuple(parse_page(PAGE)), llm_config(chat, tmp_path, "rate-limited"), DAY)
    assert [s.summarizer for s in planned.script.stories] == ["llm:rate-limited"] * 2
    assert chat.requests["rate-limited"] == 4  # each story: 429 with Retry-After, then the answer


def test_the_llm_needs_an_endpoint_and_a_model():
    with pytest.raises(ConfigError, match="needs base_url and model"):
        Config.from_dict({"summarizer": "llm"})
    with pytest.raises(ConfigError, match="must name an environment variable"):
        Config.from_dict({"llm": {"api_key_env": "sk-abc123-not-a-name!"}})


def test_each_request_bounds_the_answer_it_asks_for(chat: ChatService, tmp_path: Path):
    pipeline.plan_script(tuple(parse_page(PAGE)), llm_config(chat, tmp_path, "good"), DAY)
    target = round(20 * 4.6)  # story_seconds 20 at the offline voice's 4.6 characters a second
    assert chat.max_tokens == [target * TOKENS_PER_CHARACTER] * 2


def test_numbers_are_compared_by_value_not_as_substrings():
    article = Article(headline="全国铁路客流", paragraphs=("2026年11月26日，全国铁路预计发送旅客1350万人次，同比增长百分之十二。",))
    for invented in ("增长2%", "增加6个百分点", "覆盖20个区"):  # each is a substring of 2026 or 1350万, none is in the article
        with pytest.raises(LlmUnusable, match="numbers not in the article"):
            check_answer(f"全国铁路今天预计发送旅客一千三百五十万人次，{invented}，客流保持高位运行，各地车站秩序良好。", article, 40)
    said_otherwise = check_answer("全国铁路今天预计发送旅客一千三百五十万人次，同比增长百分之十二，客流保持高位运行。", article, 40)
    assert "一千三百五十万" in said_otherwise
