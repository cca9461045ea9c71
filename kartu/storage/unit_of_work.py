"""One transaction and the repositories that share it (opened by `Database.read`/`write`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kartu.storage.counter import CounterStatements
from kartu.storage.driver import SessionTransaction
from kartu.storage.repositories.apikeys import ApiKeyRepository
from kartu.storage.repositories.broadcasts import BroadcastRepository
from kartu.storage.repositories.cards import CardRepository
from kartu.storage.repositories.causes import CauseRepository
from kartu.storage.repositories.claims import ClaimRepository
from kartu.storage.repositories.conversations import ConversationRepository
from kartu.storage.repositories.exports import ExportRepository
from kartu.storage.repositories.ledger import LedgerRepository
from kartu.storage.repositories.membership import MembershipRepository
from kartu.storage.repositories.merchants import MerchantRepository, ProgramRepository
from kartu.storage.repositories.merges import MergeRepository
from kartu.storage.repositories.outbox import OutboxRepository
from kartu.storage.repositories.partners import PartnerRepository
from kartu.storage.repositories.people import PersonRepository
from kartu.storage.repositories.personal_data import PersonalDataRepository
from kartu.storage.repositories.points import CatalogueRepository, PointsRepository
from kartu.storage.repositories.prompts import PromptRepository
from kartu.storage.repositories.receipts import ReceiptRepository
from kartu.storage.repositories.referrals import ReferralRepository
from kartu.storage.repositories.reports import ReportRepository
from kartu.storage.repositories.rewards import RewardRepository
from kartu.storage.repositories.staff import InviteRepository, StaffRepository
from kartu.storage.repositories.surveys import SurveyRepository
from kartu.storage.repositories.sweeps import SweepRepository
from kartu.storage.repositories.switches import SwitchRepository
from kartu.storage.repositories.tally import TallyRepository
from kartu.storage.repositories.tiers import TierRepository
from kartu.storage.repositories.updates import UpdateRepository
from kartu.storage.repositories.webhooks import WebhookRepository
from kartu.storage.repositories.whatsapp import WhatsAppRepository
from kartu.storage.repositories.wheel import WheelRepository


class UnitOfWork:
    """One transaction and the repositories that share it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.merchants = MerchantRepository(session)
        self.merges = MergeRepository(session)
        self.programs = ProgramRepository(session)
        self.people = PersonRepository(session)
        self.whatsapp = WhatsAppRepository(session)
        self.cards = CardRepository(session)
        self.staff = StaffRepository(session)
        self.invites = InviteRepository(session)
        self.prompts = PromptRepository(session)
        self.rewards = RewardRepository(session)
        self.ledger = LedgerRepository(session)
        self.conversations = ConversationRepository(session)
        self.outbox = OutboxRepository(session)
        self.sweeps = SweepRepository(session)
        self.switches = SwitchRepository(session)
        self.surveys = SurveyRepository(session)
        self.claims = ClaimRepository(session)
        self.reports = ReportRepository(session)
        self.exports = ExportRepository(session)
        self.broadcasts = BroadcastRepository(session)
        self.updates = UpdateRepository(session)
        self.personal_data = PersonalDataRepository(session)
        self.points = PointsRepository(session)
        self.catalogue = CatalogueRepository(session)
        self.referrals = ReferralRepository(session)
        self.tiers = TierRepository(session)
        self.tally = TallyRepository(session)
        self.causes = CauseRepository(session)
        self.wheel = WheelRepository(session)
        self.partners = PartnerRepository(session)
        self.membership = MembershipRepository(session)
        self.apikeys = ApiKeyRepository(session)
        self.webhooks = WebhookRepository(session)
        self.receipts = ReceiptRepository(session)
        # The counter's statements (storage/counter.py) in this transaction: crediting a claim.
        self.counter = CounterStatements(SessionTransaction(session))
