"""All services, built once per app and handed to handlers through workflow data."""

from __future__ import annotations

from dataclasses import dataclass

from kartu.config import Settings
from kartu.loyalty.clock import Clock, SystemClock
from kartu.services.api import ApiService
from kartu.services.backups import BackupService
from kartu.services.bonuses import BonusService
from kartu.services.broadcasts import BroadcastService
from kartu.services.catalogue import CatalogueService
from kartu.services.causes import CauseService
from kartu.services.claims import ClaimService
from kartu.services.counter import CounterService
from kartu.services.customers import CustomerService
from kartu.services.delivery import DeliveryService
from kartu.services.exports import ExportService
from kartu.services.feedback import FeedbackService
from kartu.services.health import HealthService
from kartu.services.membership import MembershipService
from kartu.services.merchants import MerchantService
from kartu.services.merges import MergeService
from kartu.services.partners import PartnerService
from kartu.services.points import PointsService
from kartu.services.reports import ReportService
from kartu.services.tally import TallyService
from kartu.services.tiers import TierService
from kartu.services.upkeep import UpkeepService
from kartu.services.webhooks import WebhookService
from kartu.services.whatsapp import WhatsAppService
from kartu.services.wheel import WheelService
from kartu.storage.database import Database


@dataclass(frozen=True)
class Services:
    customers: CustomerService
    counter: CounterService
    merchants: MerchantService
    feedback: FeedbackService
    delivery: DeliveryService
    upkeep: UpkeepService
    claims: ClaimService
    reports: ReportService
    exports: ExportService
    broadcasts: BroadcastService
    points: PointsService
    catalogue: CatalogueService
    bonuses: BonusService
    tiers: TierService
    causes: CauseService
    wheel: WheelService
    partners: PartnerService
    membership: MembershipService
    api: ApiService
    webhooks: WebhookService
    backups: BackupService
    health: HealthService
    tally: TallyService
    whatsapp: WhatsAppService
    merges: MergeService

    @classmethod
    def build(cls, db: Database, settings: Settings, clock: Clock | None = None) -> Services:
        clock = clock or SystemClock()
        return cls(
            customers=CustomerService(db, clock, settings),
            counter=CounterService(db, clock, settings),
            merchants=MerchantService(db, clock, settings),
            merges=MergeService(db, clock, settings),
            feedback=FeedbackService(db, clock, settings),
            delivery=DeliveryService(db, clock, settings),
            upkeep=UpkeepService(db, clock, settings),
            claims=ClaimService(db, clock, settings),
            reports=ReportService(db, clock, settings),
            exports=ExportService(db, clock, settings),
            broadcasts=BroadcastService(db, clock, settings),
            points=PointsService(db, clock, settings),
            catalogue=CatalogueService(db, clock, settings),
            bonuses=BonusService(db, clock, settings),
            tiers=TierService(db, clock, settings),
            causes=CauseService(db, clock, settings),
            wheel=WheelService(db, clock, settings),
            partners=PartnerService(db, clock, settings),
            membership=MembershipService(db, clock, settings),
            api=ApiService(db, clock, settings),
            webhooks=WebhookService(db, clock, settings),
            backups=BackupService(db, clock, settings),
            health=HealthService(db, clock, settings),
            tally=TallyService(db, clock, settings),
            whatsapp=WhatsAppService(db, clock, settings),
        )
