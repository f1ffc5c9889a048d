"""The work queue over Amazon SQS: a standard queue of item pointers plus its dead-letter queue.

boto3 is synchronous, so every call runs in a worker thread (`aws.threaded.ThreadedClient`) and never
blocks the event loop; over moto, which is not thread-safe, the calls are serialised (`serialize_calls`).
Delivery is at least once: a message can arrive twice, or be sent twice when a batch is retried, which is
safe because the store's conditional writes decide what runs (see `jobs.models`).

The bodies (`aws.sqs_messages`) are strict JSON; a body that fails decoding is moved to the dead-letter
queue with the reason "malformed message" by `receive`, which returns only well-formed messages: one bad
producer must not crash or stall every consumer.

One `SqsWorkQueue` is one queue and its DLQ: a priority band. A deployed stack has one per band (high,
normal, low; `create_band_queues`), put together by `jobs.priorities.BandedWorkQueue`; a stack with only
QUEUE_URL runs everything in that one queue.

Every message carries `MessageGroupId` = its workspace. On a standard queue that makes it an SQS fair
queue: when one workspace takes a disproportionate share of the consumers (its 10,000-lead job), SQS
returns the other workspaces' messages first, so their small jobs are not stuck behind it. Nothing else
changes (no FIFO ordering, no throughput limit); moto stores the attribute but does not reorder.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from leadenrich.aws.sqs_messages import (
    MALFORMED_REASON,
    MAX_BATCH,
    MAX_DELAY_SECONDS,
    MAX_VISIBILITY_SECONDS,
    MAX_WAIT_SECONDS,
    MalformedMessage,
    check_range,
    chunks,
    decode_message,
    encode_message,
    reason_attribute,
)
from leadenrich.aws.threaded import SQS_EMULATOR_LOCK, ThreadedClient
from leadenrich.jobs.models import Band, Received, WorkMessage
from leadenrich.jobs.ports import QueueDepth

log = logging.getLogger(__name__)

DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum: keep dead letters as long as possible
REDRIVE_VISIBILITY_SECONDS = 60  # long enough to move a batch; malformed ones are made visible again after
REDRIVE_WAIT_SECONDS = 1  # long polling asks every SQS server, so an empty answer really means "drained"
SERIALIZED_POLL_SECONDS = 0.05  # serialised (moto): how often a long poll, made of short polls, asks again


class SendFailed(Exception):
    """Some messages were refused by SendMessageBatch twice; the others were sent."""

    def __init__(self, failed: list[WorkMessage], total: int, codes: Sequence[str]) -> None:
        detail = f" ({', '.join(sorted(set(codes)))})" if codes else ""
        super().__init__(f"{len(failed)} of {total} messages failed to send after one retry{detail}")
        self.failed = failed


def create_queues(
    client: Any, name: str, *, max_receive_count: int = 25, visibility_timeout: int = 60
) -> tuple[str, str]:
    """Create `name` and `name-dlq` as the SAM template does; returns (queue_url, dlq_url).

    For tests and the local stack. SQS moves a message to the DLQ by itself once it has been received
    more than `max_receive_count` times: the backstop for a message that kills its processor every time.
    The processor dead-letters items itself after their attempts (at most 10), but SQS counts every
    receive, deferrals and hand-backs included, so the backstop sits well above that (25): at 5, a job
    with `max_attempts` above 4 lost items to the DLQ with their state still "deferred". CreateQueue is
    idempotent for identical attributes, so calling this again returns the same URLs.
    """
    check_range("max_receive_count", max_receive_count, 1, 1000)
    check_range("visibility_timeout", visibility_timeout, 0, MAX_VISIBILITY_SECONDS)
    dlq_url: str = client.create_queue(
        QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)}
    )["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
    queue_url: str = client.create_queue(
        QueueName=name,
        Attributes={"VisibilityTimeout": str(visibility_timeout), "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return queue_url, dlq_url


def create_band_queues(
    client: Any, name: str, *, max_receive_count: int = 25, visibility_timeout: int = 60
) -> dict[Band, tuple[str, str]]:
    """Every priority band's queue and DLQ, as the SAM template makes them; returns (queue_url, dlq_url)
    per band. The normal band is `name` and `name-dlq` (the queue a stack without bands has), the others
    `name-high`, `name-low` and their `-dlq`s."""
    return {
        band: create_queues(
            client,
            name if band is Band.NORMAL else f"{name}-{band.value}",
            max_receive_count=max_receive_count,
            visibility_timeout=visibility_timeout,
        )
        for band in Band
    }


class SqsWorkQueue(ThreadedClient):
    """`WorkQueue` over one SQS standard queue and its dead-letter queue.

    `client` is a boto3 SQS client (thread-safe, so shared by the worker threads). `serialize_calls=True`
    over moto, whose SQS is not thread-safe (see `aws.threaded`).
    """

    emulator_lock = SQS_EMULATOR_LOCK

    def __init__(
        self,
        queue_url: str,
        dead_letter_url: str,
        client: Any,
        *,
        serialize_calls: bool = False,
        redrive_wait_seconds: int = REDRIVE_WAIT_SECONDS,
    ) -> None:
        super().__init__(client, serialize_calls=serialize_calls)
        self._queue_url = queue_url
        self._dlq_url = dead_letter_url
        # 0 only over moto (tests): its one in-process queue answers a short poll in full, and each redrive
        # would otherwise end on a second's empty long poll per band.
        self._redrive_wait = redrive_wait_seconds
        # receipt handle -> monotonic time just before the ReceiveMessage call that returned it; bounds
        # retry_later by SQS's 12 hours per receive (it rejects more rather than clamping).
        self._received_at: dict[str, float] = {}

    async def _receive_message(self, queue_url: str, wait_seconds: int, **params: Any) -> dict[str, Any]:
        """ReceiveMessage with long polling. Serialised, one long poll would hold the emulator's lock for its
        whole wait and so keep out the very send it waits for: it is made of short polls instead, with the
        lock free in between."""
        if not self.serialized or wait_seconds == 0:
            response: dict[str, Any] = await self._call(
                "receive_message", QueueUrl=queue_url, WaitTimeSeconds=wait_seconds, **params
            )
            return response
        until = time.monotonic() + wait_seconds
        while True:
            response = await self._call("receive_message", QueueUrl=queue_url, WaitTimeSeconds=0, **params)
            left = until - time.monotonic()
            if response.get("Messages") or left <= 0:
                return response
            await asyncio.sleep(min(SERIALIZED_POLL_SECONDS, left))

    async def send(self, messages: Sequence[WorkMessage], *, delay_seconds: int = 0) -> int:
        """Enqueue in batches of ten; returns how many SendMessageBatch calls were made.

        ceil(n / 10) calls when SQS takes everything. Entries a batch response lists as `Failed` are sent
        once more, together, in new batches (those calls are counted too); whatever fails again raises
        SendFailed after the rest was sent. Not atomic: an exception from a call leaves earlier batches sent.
        """
        check_range("delay_seconds", delay_seconds, 0, MAX_DELAY_SECONDS)
        bodies = [encode_message(message) for message in messages]
        calls = 0
        pending = list(range(len(bodies)))
        codes: list[str] = []
        for attempt in range(2):
            refused: list[int] = []
            codes = []
            for chunk in chunks(pending):
                entries = [
                    {
                        "Id": str(index),
                        "MessageBody": bodies[index],
                        "DelaySeconds": delay_seconds,
                        "MessageGroupId": messages[index].workspace_id,  # the tenant, for fairness
                    }
                    for index in chunk
                ]
                response = await self._call("send_message_batch", QueueUrl=self._queue_url, Entries=entries)
                calls += 1
                for failure in response.get("Failed", []):
                    refused.append(int(failure["Id"]))
                    codes.append(str(failure.get("Code", "unknown")))
            if refused and attempt == 0:
                log.warning(
                    "SendMessageBatch refused %d of %d messages; retrying them", len(refused), len(bodies)
                )
            pending = sorted(refused)
            if not pending:
                break
        if pending:
            raise SendFailed([messages[index] for index in pending], len(bodies), codes)
        return calls

    async def receive(
        self, max_messages: int, *, visibility_timeout: int, wait_seconds: int = 0
    ) -> list[Received]:
        """Up to `max_messages` well-formed messages, hidden for `visibility_timeout` seconds.

        Calls ReceiveMessage (at most ten each) until enough are gathered or a call brings nothing new;
        only the first call waits `wait_seconds` (long polling), the others return at once. Malformed
        bodies are dead-lettered here and not returned. A message delivered twice within one call (possible
        with a short visibility timeout) is returned once, with its latest receipt handle and count.
        """
        check_range("visibility_timeout", visibility_timeout, 0, MAX_VISIBILITY_SECONDS)
        check_range("wait_seconds", wait_seconds, 0, MAX_WAIT_SECONDS)
        if max_messages <= 0:
            return []
        self._forget_expired_handles()
        gathered: dict[str, Received] = {}
        seen: set[str] = set()
        wait = wait_seconds
        while len(gathered) < max_messages:
            started = time.monotonic()
            response = await self._receive_message(
                self._queue_url,
                wait,
                MaxNumberOfMessages=min(MAX_BATCH, max_messages - len(gathered)),
                VisibilityTimeout=visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            wait = 0
            raw_messages: list[dict[str, Any]] = response.get("Messages", [])
            fresh = [raw for raw in raw_messages if raw["MessageId"] not in seen]
            if not fresh:
                break
            for raw in raw_messages:
                seen.add(raw["MessageId"])
                try:
                    message = decode_message(raw["Body"])
                except MalformedMessage as exc:
                    await self._dead_letter_malformed(raw, str(exc))
                    continue
                handle = raw["ReceiptHandle"]
                earlier = gathered.get(raw["MessageId"])
                if earlier is not None:
                    self._received_at.pop(earlier.receipt_handle, None)
                self._received_at[handle] = started
                gathered[raw["MessageId"]] = Received(
                    message=message,
                    receipt_handle=handle,
                    receive_count=int(raw.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
                    message_id=raw["MessageId"],
                )
        return list(gathered.values())

    @property
    def name(self) -> str:
        """The queue's name: the last part of its URL, and of the ARN a Lambda event names it by."""
        return self._queue_url.rstrip("/").rsplit("/", 1)[-1]

    async def delivered(self, record: Mapping[str, Any], band: Band | None = None) -> Received | None:
        """A message an SQS event source mapping delivered (one record of the Lambda event), as `receive`
        returns them; a malformed body is dead-lettered here, as `receive` does, and None returned."""
        raw = {
            "MessageId": record["messageId"],
            "Body": record["body"],
            "ReceiptHandle": record["receiptHandle"],
        }
        try:
            message = decode_message(raw["Body"])
        except MalformedMessage as exc:
            await self._dead_letter_malformed(raw, str(exc))
            return None
        attributes = record.get("attributes") or {}
        return Received(
            message=message,
            receipt_handle=raw["ReceiptHandle"],
            receive_count=int(attributes.get("ApproximateReceiveCount", "1")),
            message_id=raw["MessageId"],
            band=band,
        )

    async def _dead_letter_malformed(self, raw: dict[str, Any], why: str) -> None:
        """Best effort: if this fails the message comes back later and SQS's redrive policy takes it."""
        log.warning("dead-lettering malformed message %s: %s", raw["MessageId"], why)
        try:
            await self._move_to_dlq(raw["Body"], raw["ReceiptHandle"], MALFORMED_REASON)
        except ClientError:
            log.exception("could not dead-letter malformed message %s", raw["MessageId"])

    async def delete(self, received: Received) -> None:
        """Acknowledge; a receipt handle that is already gone (deleted before) is not an error."""
        await self._delete(received.receipt_handle)

    async def _delete(self, receipt_handle: str) -> None:
        try:
            await self._call("delete_message", QueueUrl=self._queue_url, ReceiptHandle=receipt_handle)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ReceiptHandleIsInvalid":
                raise
        self._received_at.pop(receipt_handle, None)

    async def retry_later(self, received: Received, delay_seconds: int) -> None:
        """Hide the message for `delay_seconds` more, at most until 12 h after it was received.

        SQS rejects (does not clamp) a visibility that would end more than 43 200 s after the receive, so
        the delay is clamped to what is left of that. The time of the receive is known only for messages
        received through this instance; for others (e.g. built from a Lambda event) the clamp is 43 200 s
        and SQS may still refuse a delay that long.
        """
        if isinstance(delay_seconds, bool) or not isinstance(delay_seconds, int) or delay_seconds < 0:
            raise ValueError(f"delay_seconds must be a non-negative integer, got {delay_seconds!r}")
        received_at = self._received_at.get(received.receipt_handle)
        elapsed = 0 if received_at is None else math.ceil(time.monotonic() - received_at)
        timeout = max(0, min(delay_seconds, MAX_VISIBILITY_SECONDS - elapsed))
        await self._call(
            "change_message_visibility",
            QueueUrl=self._queue_url,
            ReceiptHandle=received.receipt_handle,
            VisibilityTimeout=timeout,
        )

    async def dead_letter(self, received: Received, reason: str) -> None:
        """Copy the message to the DLQ with a `reason` attribute, then delete it from the queue.

        The `reason` attribute holds only the caller's text, truncated to 256 characters (characters SQS
        would refuse are dropped; an empty reason sends no attribute). Sent before deleting, so a failure in
        between leaves a duplicate rather than losing the message.
        """
        await self._move_to_dlq(encode_message(received.message), received.receipt_handle, reason)

    async def _move_to_dlq(self, body: str, receipt_handle: str, reason: str) -> None:
        await self._call(
            "send_message",
            QueueUrl=self._dlq_url,
            MessageBody=body,
            MessageAttributes=reason_attribute(reason),
        )
        await self._delete(receipt_handle)

    async def redrive(self, max_messages: int = 1000, workspace_id: str | None = None) -> list[WorkMessage]:
        """Move up to `max_messages` dead letters back to the queue; returns the ones moved.

        Each DLQ batch is sent to the queue (SendMessageBatch, without the reason) and only what was sent is
        deleted from the DLQ. Malformed dead letters, any the queue refused, and with `workspace_id` those of
        other workspaces, stay in the DLQ: they are made visible again at the end and are not returned.
        Stops when the DLQ returns nothing new.
        """
        moved: list[WorkMessage] = []
        kept: dict[str, str] = {}  # message id -> latest receipt handle, for what stays in the DLQ
        while len(moved) < max_messages:
            response = await self._receive_message(
                self._dlq_url,
                self._redrive_wait,
                MaxNumberOfMessages=min(MAX_BATCH, max_messages - len(moved)),
                VisibilityTimeout=REDRIVE_VISIBILITY_SECONDS,
            )
            raw_messages: list[dict[str, Any]] = response.get("Messages", [])
            if not raw_messages or all(raw["MessageId"] in kept for raw in raw_messages):
                break
            batch: list[tuple[dict[str, Any], WorkMessage]] = []
            for raw in raw_messages:
                try:
                    message = decode_message(raw["Body"])
                except MalformedMessage:
                    kept[raw["MessageId"]] = raw["ReceiptHandle"]
                    continue
                if workspace_id is not None and message.workspace_id != workspace_id:
                    kept[raw["MessageId"]] = raw["ReceiptHandle"]  # not the caller's to redrive
                    continue
                batch.append((raw, message))
            if batch:
                moved.extend(await self._redrive_batch(batch, kept))
        await self._release(kept)
        return moved

    async def _redrive_batch(
        self, batch: list[tuple[dict[str, Any], WorkMessage]], kept: dict[str, str]
    ) -> list[WorkMessage]:
        entries = [
            {"Id": str(index), "MessageBody": raw["Body"], "MessageGroupId": message.workspace_id}
            for index, (raw, message) in enumerate(batch)
        ]
        response = await self._call("send_message_batch", QueueUrl=self._queue_url, Entries=entries)
        refused = {int(failure["Id"]) for failure in response.get("Failed", [])}
        for index in sorted(refused):
            raw = batch[index][0]
            log.warning("redrive: the queue refused dead letter %s; it stays in the DLQ", raw["MessageId"])
            kept[raw["MessageId"]] = raw["ReceiptHandle"]
        sent = [pair for index, pair in enumerate(batch) if index not in refused]
        if sent:
            deletes = [
                {"Id": str(index), "ReceiptHandle": raw["ReceiptHandle"]}
                for index, (raw, _) in enumerate(sent)
            ]
            result = await self._call("delete_message_batch", QueueUrl=self._dlq_url, Entries=deletes)
            for failure in result.get("Failed", []):
                # Already requeued: it will be redriven again later, a duplicate the store absorbs.
                log.warning(
                    "redrive: could not delete dead letter %s", sent[int(failure["Id"])][0]["MessageId"]
                )
        return [message for _, message in sent]

    async def _release(self, kept: dict[str, str]) -> None:
        """Make dead letters this redrive left in place visible again, so the DLQ shows them at once."""
        handles = list(kept.values())
        for chunk in chunks(handles):
            entries = [
                {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for index, handle in enumerate(chunk)
            ]
            await self._call("change_message_visibility_batch", QueueUrl=self._dlq_url, Entries=entries)

    async def depth(self) -> QueueDepth:
        """Approximate counts (SQS's own are eventually consistent, lagging by up to a minute)."""
        main, dead = await asyncio.gather(
            self._call(
                "get_queue_attributes",
                QueueUrl=self._queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            ),
            self._call(
                "get_queue_attributes", QueueUrl=self._dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
            ),
        )
        attributes: dict[str, str] = main["Attributes"]
        return QueueDepth(
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
            dead_letters=int(dead["Attributes"].get("ApproximateNumberOfMessages", 0)),
        )

    def _forget_expired_handles(self) -> None:
        """Handles older than 12 h can no longer be re-timed; drop them so the map stays small."""
        horizon = time.monotonic() - MAX_VISIBILITY_SECONDS
        for handle in [handle for handle, at in self._received_at.items() if at < horizon]:
            del self._received_at[handle]


__all__ = [
    "MALFORMED_REASON",
    "MalformedMessage",
    "SendFailed",
    "SqsWorkQueue",
    "create_band_queues",
    "create_queues",
    "decode_message",
    "encode_message",
]
