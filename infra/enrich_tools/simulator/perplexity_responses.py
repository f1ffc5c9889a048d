"""The response objects the Perplexity routes send: an Agent API run, built whole when the request
arrives (every injected fault decided then, so replays and background polls see the same run), the view
of it while queued or in progress, and a retired-Sonar chat completion. Each run and its cost go to the
ledger.
"""

from __future__ import annotations

import json
import time
from typing import Any

from enrich_tools.simulator.faults import Dice
from enrich_tools.simulator.perplexity_answers import (
    Lookup,
    estimate_tokens,
    fence,
    json_answer,
    look_up,
    prose_answer,
    search_count,
    search_results,
    think_prefix,
    truncate_json,
    usage,
)
from enrich_tools.simulator.perplexity_request import AgentRequest
from enrich_tools.simulator.state import SimState


def agent_run(
    state: SimState, request: AgentRequest, response_id: str, dice: Dice, noted: int
) -> dict[str, Any]:
    """The finished response object, with every injected fault decided now (so replays are stable)."""
    config = state.config
    lookup = look_up(state.world, request.texts)
    search_item = search_results(lookup, request.max_results) if request.search else None
    cited = [r["url"] for r in search_item["results"]] if search_item else []
    if request.schema is not None:
        text = json_answer(request.schema, lookup, request.search)
        if dice.chance("truncated", config.share_truncated):
            text = truncate_json(text, dice.fraction("truncated_at", 0.4, 0.85))
        if dice.chance("fenced", config.share_fenced):
            text = fence(text)
    else:
        text = prose_answer(lookup, request.search, cited)
    if dice.chance("think", config.share_think):
        text = think_prefix(lookup) + text
    failed = dice.chance("failed", config.perplexity_share_failed)
    input_tokens = estimate_tokens(" ".join(request.texts) + json.dumps(request.schema or {}))
    output_tokens = estimate_tokens(text)
    status, incomplete = "completed", None
    if failed:
        status, output_tokens = "failed", 0
    elif request.max_output_tokens is not None and output_tokens > request.max_output_tokens:
        status, incomplete = "incomplete", {"reason": "max_output_tokens"}
        text, output_tokens = text[: request.max_output_tokens * 4], request.max_output_tokens
    searches = search_count(request.preset) if request.search else 0
    bill = usage(request.model, request.preset, input_tokens, output_tokens, searches)
    output: list[dict[str, Any]] = []
    if not failed:
        if search_item is not None:
            output.append(search_item)
        message = {"type": "output_text", "text": text, "annotations": []}
        output.append(
            {
                "type": "message",
                "id": state.new_id("msg"),
                "role": "assistant",
                "status": status,
                "content": [message],
            }
        )
    now = int(time.time())
    error = None
    if failed:
        kind = "upstream_structured_output_failed" if request.schema else "internal_error"
        error = {
            "message": "The run failed before producing an answer. Retry the request.",
            "type": kind,
            "code": 500,
        }
    state.ledger.add_perplexity_run(status, bill["cost"]["total_cost"], input_tokens, output_tokens, noted)
    return {
        "id": response_id,
        "object": "response",
        "created_at": now,
        "completed_at": None if failed else now,
        "status": status,
        "model": request.model,
        "preset": request.preset,
        "output": output,
        "usage": bill,
        "error": error,
        "incomplete_details": incomplete,
        "metadata": request.metadata,
        "background": request.background,
    }


def pending(final: dict[str, Any], status: str) -> dict[str, Any]:
    """`final` as a poll sees it before it is done (a background run: queued, then in progress)."""
    return {
        **final,
        "status": status,
        "output": [],
        "usage": None,
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
    }


_SONAR_RESULT_KEYS = ("title", "url", "date", "last_updated", "snippet", "source")


def sonar_completion(
    state: SimState, body: dict[str, Any], messages: list[dict[str, Any]], model: str
) -> dict[str, Any]:
    """A Sonar answer (served until `legacy_retired_on`) about the company the messages name."""
    lookup: Lookup = look_up(state.world, [str(m.get("content", "")) for m in messages])
    results = search_results(lookup, 10)["results"]
    urls = [r["url"] for r in results]
    response_format = body.get("response_format")
    schema = None
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
    text = json_answer(schema, lookup, True) if isinstance(schema, dict) else prose_answer(lookup, True, urls)
    prompt, completion = estimate_tokens(json.dumps(messages)), estimate_tokens(text)
    total = (prompt + completion) / 1e6 + 0.005
    return {
        "id": state.new_id("chatcmpl"),
        "model": model,
        "created": int(time.time()),
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": text},
                "delta": {"role": "assistant", "content": ""},
            }
        ],
        "citations": urls,
        "search_results": [{k: r[k] for k in _SONAR_RESULT_KEYS} for r in results],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "search_context_size": "low",
            "citation_tokens": None,
            "num_search_queries": 1,
            "reasoning_tokens": None,
            "cost": {
                "input_tokens_cost": prompt / 1e6,
                "output_tokens_cost": completion / 1e6,
                "reasoning_tokens_cost": None,
                "request_cost": 0.005,
                "citation_tokens_cost": None,
                "search_queries_cost": None,
                "total_cost": round(total, 8),
            },
        },
        "images": None,
        "related_questions": None,
    }
