"""Webhook delivery as Telegram does it, for the emulator (`BotAPIEmulator.deliver_like_telegram`).

An update is posted to the webhook in the background; one chat's updates go one at a time, in
order (the next only after the previous got a 2xx); up to ``max_connections`` posts are open at
once (setWebhook's parameter, 40 by default). A post answered with anything but 2xx, or not
answered within ``timeout`` seconds, or refused at the door (a process that died) is posted again
later, with a growing pause, until it is taken. The emulator counts what it posted and how it went.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector

log = logging.getLogger(__name__)
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)  # then every 8 s until it is taken


def chat_of(update: dict[str, Any]) -> int:
    """The chat an update belongs to (Telegram keeps each chat's updates in order)."""
    for kind, payload in update.items():
        if kind == "update_id" or not isinstance(payload, dict):
            continue
        chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
        sender = payload.get("from") or payload.get("user")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return 0


@dataclass
class DeliveryCounts:
    posted: int = 0  # HTTP posts made (first tries and redeliveries)
    taken: int = 0  # updates answered 2xx
    redelivered: int = 0  # posts that were a second or later try
    statuses: dict[str, int] = field(default_factory=dict)  # "200", "503", "timeout", "refused" → count


class WebhookQueue:
    def __init__(
        self,
        target: Callable[[], tuple[str, str | None] | None],
        *,
        timeout: float = 10.0,
        max_connections: int = 40,
    ) -> None:
        self._target = target  # (url, secret) as set by setWebhook, read at each post
        self.timeout = timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._chats: dict[int, deque[dict[str, Any]]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._session: ClientSession | None = None
        self.counts = DeliveryCounts()

    def push(self, update: dict[str, Any]) -> None:
        chat = chat_of(update)
        self._chats.setdefault(chat, deque()).append(update)
        if chat not in self._workers:
            self._workers[chat] = asyncio.create_task(self._drain(chat))

    @property
    def waiting(self) -> int:
        """Updates not yet taken by the webhook."""
        return sum(len(queue) for queue in self._chats.values())

    def waiting_up_to(self, update_id: int) -> bool:
        """Whether an update with this id or an older one still waits to be taken."""
        return any(
            int(update["update_id"]) <= update_id for queue in self._chats.values() for update in queue
        )

    async def close(self) -> None:
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
        if self._session is not None:
            await self._session.close()

    async def _drain(self, chat: int) -> None:
        queue = self._chats[chat]
        try:
            while queue:
                update = queue[0]
                tries = 0
                while not await self._post(update, again=tries > 0):
                    await asyncio.sleep(RETRY_DELAYS[min(tries, len(RETRY_DELAYS) - 1)])
                    tries += 1
                queue.popleft()
        finally:
            self._workers.pop(chat, None)
            if not queue:
                self._chats.pop(chat, None)

    async def _post(self, update: dict[str, Any], *, again: bool) -> bool:
        target = self._target()
        if target is None:  # the webhook was deleted: Telegram keeps the update for getUpdates
            return False
        url, secret = target
        if self._session is None:
            self._session = ClientSession(connector=TCPConnector(limit=0))
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        outcome: str
        async with self._slots:
            self.counts.posted += 1
            self.counts.redelivered += again
            try:
                async with self._session.post(
                    url, json=update, headers=headers, timeout=ClientTimeout(total=self.timeout)
                ) as response:
                    await response.read()
                    outcome = str(response.status)
            except TimeoutError:
                outcome = "timeout"
            except (ClientError, OSError):
                outcome = "refused"
        self.counts.statuses[outcome] = self.counts.statuses.get(outcome, 0) + 1
        if outcome.startswith("2"):
            self.counts.taken += 1
            return True
        log.debug("webhook post of update %s: %s", update.get("update_id"), outcome)
        return False
