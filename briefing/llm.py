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
from pathlib import Path

from .config import LlmConfig
from .files import write_atomically
from .ingest import Article
from .text import count_han

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
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万亿]{2,}")
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
    import openai

    api_key = os.environ.get(config.api_key_env, "") if config.api_key_env else ""
    client = openai.OpenAI(base_url=config.base_url, api_key=api_key or "none", timeout=config.timeout, max_retries=2)
    try:
        response = client.chat.completions.create(
            model=config.model,
            messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user_prompt(article, chars)}],
            temperature=0.2,
        )
    except openai.APITimeoutError:
        raise LlmUnavailable(f"no answer within {config.timeout:g} s") from None
    except openai.AuthenticationError:
        where = f"${config.api_key_env}" if config.api_key_env else "api_key_env in [llm]"
        raise LlmUnavailable(f"the endpoint refused the API key (401): check {where}") from None
    except openai.APIStatusError as exc:
        raise LlmUnavailable(f"the endpoint answered {exc.status_code}") from None
    except (openai.APIError, ValueError) as exc:  # connection errors, and answers that are not the API's JSON
        raise LlmUnavailable(f"no usable answer ({type(exc).__name__})") from None
    finally:
        client.close()
    choices = getattr(response, "choices", None) or []
    content = choices[0].message.content if choices and choices[0].message else None
    if not content or not content.strip():
        raise LlmUnusable("an empty answer")
    return content.strip()


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
    source = (article.title + article.body).translate(_FULL_WIDTH_DIGITS)
    invented = [number for number in _NUMBER_RE.findall(text) if number not in source]
    if invented:
        raise LlmUnusable(f"numbers not in the article: {', '.join(invented[:3])}")
    return text
