"""How this Kartu is doing, for operators and their monitors: readiness (GET /readyz) and the
process's metrics (GET /metrics), which every part of the process counts into."""

from __future__ import annotations

from datetime import timedelta

from kartu.config import Settings
from kartu.loyalty.clock import Clock
from kartu.metrics import Metrics
from kartu.services.base import ServiceBase
from kartu.storage.database import Database
from kartu.storage.health import Readiness, readiness


class HealthService(ServiceBase):
    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        super().__init__(db, clock, settings)
        self.metrics = Metrics()

    async def ready(self) -> Readiness:
        return await readiness(
            self.db, self.clock.now(), timedelta(seconds=self.settings.ready_outbox_age_seconds)
        )

    async def metrics_text(self) -> bytes:
        await self.metrics.refresh(self.db, self.clock.now())
        return self.metrics.render()
