"""LLM summaries (optional): an OpenAI-compatible chat endpoint writes each story for the ear.

Every answer is checked (its length, that it is Chinese, that each number in it is in the article)
and cached by article, model and prompt, so a rerun costs no tokens. Anything that goes wrong (an
API error, a timeout, a refusal, a failed check) is a `LlmUnusable` the caller answers by using the
extractive summary for that story.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from .config import LlmConfig
from .files import write_atomically
from .ingest import Article
from .text import BIG_NUMERAL_UNITS, chinese_number, count_han

PROMPT_VERSION = "1"
SYSTEM_PROMPT = (
    "你是广播电台的新闻编辑。把用户给出的新闻改写成适合朗读的普通话新闻稿，给听众听而不是给读者看："
    "句子短，一句只说一件事；不用括号、不列条目、不用表格和标题；"
    "人名、地名、机构名和所有数字必须与原文完全一致，不得增加原文没有的事实或数字；"
    "只输出新闻稿正文，不要解释。"
)
# An answer is used when its length is within these shares of the target.
MIN_SHARE, MAX_SHARE = 0.4, 1.3
MIN_HAN_SHARE = 0.7  # an answer with a smaller share of Han characters is not a Chinese summary
# A number as written: digits (with thousands commas, a decimal part, and 万 or 亿 after them), or
# at least two Chinese numerals. Each is compared by its value: 1350万 is 一千三百五十万, and 2 is not in 2026.
_NUMBER_RE = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)([万亿]?)|([零〇一二两三四五六七八九十百千万亿]{2,})")
TOKENS_PER_CHARACTER = 3  # max_tokens: a Chinese character is one or two tokens; room to run a little over
MAX_ANSWER_BYTES = 1_000_000
RETRIES = 2  # after a rate limit or a server error, within the timeout
_REFUSAL_RE = re.compile(
    r"抱歉|对不起|无法(?:完成|提供|处理|回答)|不能(?:提供|完成)|作为(?:一个)?AI|I can(?:no|')t|I'm sorry", re.IGNORECASE
)
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９．", "0123456789.")


class LlmUnusable(Exception):
    """The model's answer cannot be used for this story; the message says why, in a few words."""


class LlmUnavailable(LlmUnusable):
    """The endpoint itself failed (no answer, an error status, a broken reply): the rest of the run
    does not wait on it again."""


def user_prompt(article: Article, chars: int) -> str:
    return f"请把下面这条新闻改写成约{chars}字的广播稿。\n\n标题：{article.title}\n\n" + "\n".join(article.story_paragraphs)


def llm_summary(article: Article, chars: int, config: LlmConfig, cache_dir: Path, down: LlmUnavailable | None = None) -> str:
    """The model's spoken summary of `article`, about `chars` characters long, checked; raises
    LlmUnusable. With `down` (the endpoint already failed this run) only the cache is asked."""
    key = hashlib.sha256(
        json.dumps([PROMPT_VERSION, config.model, chars, article.title, article.body], ensure_ascii=False).encode()
    ).hexdigest()
    cached = cache_dir / "llm" / key[:2] / f"{key}.json"
    if cached.exists():
        try:
            return str(json.loads(cached.read_text(encoding="utf-8"))["summary"])
        except (OSError, ValueError, KeyError):
            pass  # damaged: ask again
    if down is not None:
        raise down
    answer = check_answer(_ask(article, chars, config), article, chars)
    write_atomically(
        cached, json.dumps({"model": config.model, "prompt": PROMPT_VERSION, "summary": answer}, ensure_ascii=False).encode("utf-8")
    )
    return answer


def _ask(article: Article, chars: int, config: LlmConfig) -> str:
    """One answer from the endpoint within `config.timeout` seconds in all, a rate limit waited out
    included. Anything but the API's JSON (an HTML error page, a cut or endless reply) means the
    endpoint is down."""
    import httpx

    deadline = time.monotonic() + config.timeout
    api_key = os.environ.get(config.api_key_env, "") if config.api_key_env else ""
    request = {
        "model": config.model,
        "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user_prompt(article, chars)}],
        "temperature": 0.2,
        "max_tokens": chars * TOKENS_PER_CHARACTER,
    }
    headers = {"Authorization": f"Bearer {api_key or 'none'}"}
    url = config.base_url.rstrip("/") + "/chat/completions"
    try:
        with httpx.Client(timeout=httpx.Timeout(config.timeout)) as client:
            for attempt in range(RETRIES + 1):
                status, body, retry_after = _post(client, url, request, headers, deadline, config.timeout)
                wait = min(retry_after if retry_after is not None else 1.0, 30.0)
                if status in (429, 500, 502, 503) and attempt < RETRIES and time.monotonic() + wait < deadline:
                    time.sleep(wait)
                    continue
                break
    except httpx.TimeoutException:
        raise LlmUnavailable(f"no answer within {config.timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise LlmUnavailable(f"no usable answer ({type(exc).__name__})") from None
    return _content(status, body, config)


def _post(
    client: Any, url: str, request: dict[str, Any], headers: dict[str, str], deadline: float, timeout: float
) -> tuple[int, bytes, float | None]:
    """The status, the body (at most MAX_ANSWER_BYTES) and Retry-After of one request, by `deadline`."""
    from .fetch import TooLarge, TooLate, read_within

    with client.stream("POST", url, json=request, headers=headers) as response:
        try:
            body = read_within(response, MAX_ANSWER_BYTES, deadline)
        except TooLarge:
            raise LlmUnavailable(f"no usable answer (a reply over {MAX_ANSWER_BYTES // 1_000_000} MB)") from None
        except TooLate:
            raise LlmUnavailable(f"no answer within {timeout:g} s") from None
        retry_after = response.headers.get("retry-after", "")
        return response.status_code, body, float(retry_after) if retry_after.replace(".", "", 1).isdigit() else None


def _content(status: int, body: bytes, config: LlmConfig) -> str:
    if status == 401:
        where = f"${config.api_key_env}" if config.api_key_env else "api_key_env in [llm]"
        raise LlmUnavailable(f"the endpoint refused the API key (401): check {where}")
    if status >= 400:
        raise LlmUnavailable(f"the endpoint answered {status}")
    try:
        data = json.loads(body)
        choices = data.get("choices") or []
        content = choices[0]["message"]["content"] if choices else None
    except (ValueError, RecursionError, AttributeError, KeyError, TypeError, IndexError):
        raise LlmUnavailable("no usable answer (the reply is not the API's JSON: is base_url an OpenAI-compatible endpoint?)") from None
    if not isinstance(content, str) or not content.strip():
        raise LlmUnusable("an empty answer")
    return content.strip()


def numbers(text: str) -> list[tuple[str, float]]:
    """Each number in `text` as written, with its value."""
    found = []
    for digits, unit, chinese in _NUMBER_RE.findall(text):
        if digits:
            found.append((digits + unit, float(digits.replace(",", "")) * BIG_NUMERAL_UNITS.get(unit, 1)))
        elif (value := chinese_number(chinese)) is not None:
            found.append((chinese, float(value)))
    return found


def check_answer(answer: str, article: Article, chars: int) -> str:
    """The answer as one paragraph, or LlmUnusable when it is too short or long, not Chinese, a
    refusal, or says a number the article does not."""
    text = re.sub(r"\s+", "", answer.translate(_FULL_WIDTH_DIGITS))
    if _REFUSAL_RE.search(text[:60]):
        raise LlmUnusable("the model declined")
    if count_han(text) < MIN_HAN_SHARE * len(text):
        raise LlmUnusable("the answer is not Chinese")
    if not MIN_SHARE * chars <= len(text) <= MAX_SHARE * chars:
        raise LlmUnusable(f"{len(text)} characters for a target of {chars}")
    known = {value for _, value in numbers((article.title + article.body).translate(_FULL_WIDTH_DIGITS))}
    invented = [written for written, value in numbers(text) if value not in known]
    if invented:
        raise LlmUnusable(f"numbers not in the article: {', '.join(invented[:3])}")
    return text
