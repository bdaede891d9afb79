"""A stand-in for an OpenAI-compatible chat completions endpoint, with the shapes real ones fail in.

The model name picks the behaviour: `good` answers with the article's first sentences (so every
number is the article's own); `invent` adds a number; `english` answers in English; `refuse` says
it cannot; `rate-limited` answers 429 with Retry-After once, then well; `error` answers 500;
`locked` answers 401; `malformed` sends broken JSON; `empty` sends no choice; `slow` waits too long;
`trickle` sends its answer a byte every tenth of a second; `huge` sends megabytes of it; `html` is a
web server's error page with status 200.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter

from aiohttp import web


def completion(content: str | None, model: str) -> dict:
    choices = [] if content is None else [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def error(status: int, message: str, kind: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "code": None}}, status=status)


class ChatService:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.keys: list[str] = []
        self.max_tokens: list[int] = []  # what each request asked for

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.complete)
        return app

    async def complete(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = body["model"]
        self.requests[model] += 1
        self.keys.append(request.headers.get("Authorization", ""))
        self.max_tokens.append(int(body.get("max_tokens") or 0))
        article = body["messages"][-1]["content"].split("\n\n", 2)[-1]
        target = int(re.search(r"约(\d+)字", body["messages"][-1]["content"]).group(1))
        sentences = re.findall(r"[^。！？]+[。！？]", article.replace("\n", ""))
        summary = ""
        for sentence in sentences:
            if len(summary) + len(sentence) > target:
                break
            summary += sentence
        summary = summary or sentences[0]
        if model == "good":
            return web.json_response(completion(summary, model))
        if model == "invent":
            return web.json_response(completion(summary + "预计明年将再增加9999个。", model))
        if model == "english":
            return web.json_response(completion("The city opened three new schools today, adding many places for pupils. " * 3, model))
        if model == "refuse":
            return web.json_response(completion("抱歉，我无法完成这个请求。", model))
        if model == "rate-limited":
            if self.requests[model] % 2 == 1:
                return web.json_response(
                    {"error": {"message": "Rate limit reached", "type": "rate_limit"}}, status=429, headers={"Retry-After": "1"}
                )
            return web.json_response(completion(summary, model))
        if model == "error":
            return error(500, "internal error", "server_error")
        if model == "locked":
            return error(401, "Incorrect API key provided", "invalid_request_error")
        if model == "malformed":
            return web.Response(text='{"id": "x", "choices": [', content_type="application/json")
        if model == "empty":
            return web.json_response(completion(None, model))
        if model == "slow":
            await asyncio.sleep(1.5)  # past the test's 1 s timeout, within the server's shutdown grace
            return web.json_response(completion(summary, model))
        if model in ("trickle", "huge"):
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await response.prepare(request)
            if model == "huge":
                await response.write(b'{"choices": [{"message": {"content": "' + "很长".encode() * 3_000_000)
                return response
            for byte in json.dumps(completion(summary, model)).encode():
                await response.write(bytes([byte]))
                await asyncio.sleep(0.1)
            return response
        if model == "html":
            return web.Response(text="<html><body><h1>502 Bad Gateway</h1>nginx</body></html>", content_type="text/html")
        return error(404, f"model {model} not found", "invalid_request_error")


def as_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
