"""Bank-independent interface between the bank-link framework and a bank.

Plain Python, no Odoo imports: a bank addon implements :class:`BankProvider`
with its own API client and returns the normalised records below; the
framework (``models/``) turns them into consents, linked accounts and
statement lines. Everything here can be tested with plain pytest.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime
import time
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

#: Booking dates are calendar dates of the bank's own time zone.
BANK_TIMEZONE = "Europe/Amsterdam"

#: RTS 2018/389 art. 36(5)(b): unattended access at most 4 times a day.
MAX_UNATTENDED_FETCHES_PER_DAY = 4

#: Reg. 2022/2360: a consent lasts 180 days before the user re-authenticates.
CONSENT_DAYS = 180


# --------------------------------------------------------------------------
# Normalised records
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TokenSet:
    """Tokens of one consent. ``refresh_token`` may be rotated by the bank."""

    access_token: str
    refresh_token: str | None = None
    #: UTC moment after which the access token is no longer accepted.
    expires_at: datetime.datetime | None = None
    refresh_expires_at: datetime.datetime | None = None
    scope: str | None = None
    #: Last day the consent is valid, when the bank tells (ABN AMRO does).
    consent_valid_until: datetime.date | None = None

    def __repr__(self) -> str:  # tokens must never reach a log line
        return (
            f"TokenSet(access_token=<hidden>, refresh_token=<hidden>, "
            f"expires_at={self.expires_at!r}, scope={self.scope!r}, "
            f"consent_valid_until={self.consent_valid_until!r})"
        )

    __str__ = __repr__


@dataclasses.dataclass(frozen=True)
class BankAccount:
    """One account the consent gives access to."""

    #: The bank's handle for the account in later calls (ING: resourceId,
    #: ABN AMRO: the IBAN itself).
    resource_id: str
    iban: str
    currency: str = "EUR"
    holder_name: str | None = None
    #: Bank product or account type as the bank names it.
    product: str | None = None
    #: Whether the bank allows this account in an accounting-package link.
    eligible: bool = True
    #: Why not, in English (translated by the framework), when not eligible.
    ineligible_reason: str | None = None


#: Balance types that count what is not booked yet (pending card payments,
#: reservations, a credit line): Berlin Group's ``expected``,
#: ``interimAvailable``, ``closingAvailable``, ``forwardAvailable`` and
#: ``authorised``. Rabobank and de Volksbank give only such a balance.
BALANCE_TYPES_WITH_PENDING = frozenset(
    {"expected", "interimAvailable", "closingAvailable", "forwardAvailable", "authorised"}
)


@dataclasses.dataclass(frozen=True)
class BankBalance:
    amount: Decimal
    currency: str
    #: ``closingBooked``, ``interimBooked``, ``BOOKBALANCE``, ...
    balance_type: str
    #: The booking date the balance belongs to (end of that day), if known.
    reference_date: datetime.date | None = None

    @property
    def includes_pending(self) -> bool:
        """The balance counts bookings that are not imported (pending ones):
        it cannot prove the imported lines complete, nor correct them."""
        return self.balance_type in BALANCE_TYPES_WITH_PENDING


@dataclasses.dataclass(frozen=True)
class BankTransaction:
    """One BOOKED transaction, normalised. Pending ones never get here."""

    #: The bank's own id; ``None`` when the bank gives none (ABN AMRO card
    #: rows): the framework then derives a fingerprint identity.
    bank_id: str | None
    booking_date: datetime.date
    amount: Decimal
    currency: str
    value_date: datetime.date | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    counterparty_bic: str | None = None
    #: Unstructured remittance text, parts joined by newlines.
    remittance_text: str = ""
    #: Structured creditor reference as the bank gave it (betalingskenmerk
    #: or RF), without spaces.
    structured_reference: str | None = None
    #: ``CUR`` (Dutch betalingskenmerk), ``ISO`` (RF) or what the bank says.
    structured_reference_issuer: str | None = None
    end_to_end_id: str | None = None
    #: Bank transaction code (ABN AMRO mutationCode, ING transactionType...).
    bank_transaction_code: str | None = None
    #: True for card payments (BEA / GEA / POS).
    is_card_payment: bool = False
    #: Balance after this transaction, when the bank gives it.
    balance_after: Decimal | None = None
    #: The bank's record, JSON-serialisable, kept for support and audits.
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False)


@dataclasses.dataclass(frozen=True)
class Notice:
    """Something the user should know about a fetch, as a code with
    parameters: the framework words it in the reader's language (a bank
    addon's English never reaches a Dutch screen). ``str()`` is the English
    for the server log."""

    code: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code} {dict(self.params)}"


#: Notice codes the framework words (models/account_bank_link.py).
#: The bank served its history from ``date_from`` only; ``period`` is its
#: stated limit (e.g. "P13M"), when given.
NOTICE_HISTORY_LIMIT = "history_limit"
#: The full history is given once after consent and was spent: the last
#: ``days`` days were fetched.
NOTICE_HISTORY_SPENT = "history_spent"


@dataclasses.dataclass(frozen=True)
class TransactionPage:
    """One page of booked transactions as the bank returned it."""

    transactions: list[BankTransaction]
    #: Set when the bank served less history than asked (ING's
    #: ``X-ING-AIS-ADJUSTED-DATEFROM``): the framework reports it.
    adjusted_date_from: datetime.date | None = None
    #: Other things worth telling the user, as codes the framework words.
    notices: tuple[Notice, ...] = ()


# --------------------------------------------------------------------------
# Typed errors: what the framework does with each is fixed here.
# --------------------------------------------------------------------------


class BankLinkError(Exception):
    """Base of every error a provider raises. Never carries a token."""

    #: Whether the framework may try the same call again later.
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        bank_code: str | None = None,
        http_status: int | None = None,
        reference: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.bank_code = bank_code
        self.http_status = http_status
        #: The bank's trace or reference id, for support.
        self.reference = reference

    def __str__(self) -> str:
        parts = [self.message]
        if self.bank_code:
            parts.append(f"[{self.bank_code}]")
        if self.http_status:
            parts.append(f"(HTTP {self.http_status})")
        if self.reference:
            parts.append(f"ref {self.reference}")
        return " ".join(parts)


class TokenExpiredError(BankLinkError):
    """Access token expired or invalid: refresh it and retry once."""

    retryable = True


class ConsentExpiredError(BankLinkError):
    """Refresh refused or consent ended at the bank: the user must renew."""


class ConsentRevokedError(ConsentExpiredError):
    """The user (or bank) withdrew the consent."""


class AccessDeniedError(BankLinkError):
    """The consent does not cover this account or scope (HTTP 403)."""


class RateLimitedError(BankLinkError):
    """Too many requests (HTTP 429)."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class BankUnavailableError(BankLinkError):
    """5xx, connection error or time-out after the client's own retries."""

    retryable = True


class ProtocolError(BankLinkError):
    """The bank's answer could not be understood (malformed JSON, missing
    fields, a page cut short). Nothing of the fetch may be imported."""

    retryable = True


class ConfigurationError(BankLinkError):
    """Our side is misconfigured: certificate, key, client id, URL."""


class InvalidRequestError(BankLinkError):
    """The bank refused the request itself (400: format, period...)."""


# --------------------------------------------------------------------------
# The interface a bank addon implements
# --------------------------------------------------------------------------


#: Provider class per bank code (the ``provider`` selection value), of the
#: banks whose addon registered its class with :func:`register`: the
#: framework reads the bank's fixed facts from the class and builds the
#: provider from the company's bank registration (account.bank.registration).
PROVIDER_CLASSES: dict[str, type[BankProvider]] = {}


def register(provider_class: type[BankProvider]) -> type[BankProvider]:
    """Class decorator: ``provider_class`` serves the bank of its ``code``."""
    PROVIDER_CLASSES[provider_class.code] = provider_class
    return provider_class


class BankProvider(abc.ABC):
    """One bank's API, configured for one TPP registration and environment."""

    #: Selection value on ``account.bank.link.provider``.
    code: str = ""
    #: Display name of the bank.
    name: str = ""
    #: Unattended fetches per account per 24 hours this bank allows.
    max_unattended_fetches_per_day: int = MAX_UNATTENDED_FETCHES_PER_DAY
    #: Days a consent lasts.
    consent_days: int = CONSENT_DAYS
    #: Months of transaction history the bank serves (ING and ABN AMRO: 18).
    history_months: int = 18
    #: True when one consent covers exactly one account (ABN AMRO).
    one_account_per_consent: bool = False
    #: True when the bank rotates refresh tokens (the old one dies at use):
    #: the framework then commits the new token before anything else.
    rotates_refresh_token: bool = False
    #: Most payments one order may hold to go through the bank's interface
    #: (Rabobank: 1, single payments only); None: no limit of its own. A
    #: larger order is the file for the bank's portal.
    max_payments_per_order: int | None = None
    #: The bank's codes in a Dutch IBAN (its 5th to 8th character, e.g.
    #: ``"RABO"``): the link wizard picks this bank for such a journal.
    iban_bank_codes: tuple[str, ...] = ()

    # The TPP registration at this bank (``account.bank.registration``).
    #: Its settings the bank cannot work without (the registration's field names).
    required_settings: tuple[str, ...] = ()
    #: The only hosts a production registration may send tokens and secrets to.
    production_hosts: tuple[str, ...] = ()
    #: Default endpoints per environment; the sandbox ones are replaced by
    #: the local bank sandbox's URL (system parameter
    #: ``account_bank_link_<code>.sandbox_url``) plus the paths below.
    production_api_url: str = ""
    production_auth_url: str = ""
    sandbox_api_url: str = ""
    sandbox_auth_url: str = ""
    local_sandbox_api_path: str = ""
    local_sandbox_auth_path: str = ""
    #: The dataclass of the bank's settings that :meth:`config_from_settings`
    #: builds from a registration; None: the bank addon builds its config itself.
    config_class: type | None = None

    @classmethod
    def config_from_settings(cls, settings: Mapping[str, Any]) -> Any:
        """The bank's config from its registration's ``settings``
        (``environment``, the endpoint URLs, ``client_id``,
        ``client_secret``, ``api_key``, the certificate and key file paths
        and ``verify``): the fields of :attr:`config_class` by name, URLs
        without a trailing slash. A bank whose config names or derives more
        overrides this and calls super() with those values added."""
        names = {field.name for field in dataclasses.fields(cls.config_class)}
        return cls.config_class(**{
            name: value.rstrip("/") if name.endswith("_url") and isinstance(value, str) else value
            for name, value in settings.items()
            if name in names
        })

    def __init__(
        self,
        config: Any = None,
        *,
        retry: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        session: Any = None,
        now: Callable[[], datetime.datetime] | None = None,
    ):
        """The bank's ``config`` (its settings, a dataclass holding file
        paths, never key material), the bank's client (:meth:`make_client`)
        over the transport's ``retry`` policy, ``sleep`` and ``session``, and
        ``now``, the clock (tests set both)."""
        self.config = config
        self._now = now or (lambda: datetime.datetime.now(datetime.UTC))
        self.client = None
        if config is not None:
            # What every bank's client takes from its config alike: mutual
            # TLS, the trusted authorities and the time-out.
            transport = {name: getattr(config, name) for name in ("tls_cert_path", "tls_key_path", "verify", "timeout")}
            transport.update(retry=retry, sleep=sleep, session=session)
            self.client = self.make_client(config, transport)

    def _token_set(self, payload: Mapping[str, Any], previous: TokenSet | None = None) -> TokenSet:
        """The tokens of the bank's token answer (``oauth.token_set``), with
        this bank's clock and its refresh-token rotation."""
        from . import oauth  # it imports this module

        return oauth.token_set(payload, previous, now=self._now(), rotating=self.rotates_refresh_token, bank=self.name)

    def make_client(self, config: Any, transport: dict[str, Any]) -> Any:
        """Hook: the bank's client for ``config``, with the keyword arguments
        of ``transport`` (the client certificate and key, ``verify``,
        ``timeout``, ``retry``, ``sleep``, ``session``)."""
        raise NotImplementedError

    @abc.abstractmethod
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """URL to send the user's browser to for the consent."""

    @abc.abstractmethod
    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        """Trade the authorization code for tokens."""

    @abc.abstractmethod
    def refresh(self, tokens: TokenSet) -> TokenSet:
        """New tokens; keeps the old refresh token when the bank sends none."""

    @abc.abstractmethod
    def revoke(self, tokens: TokenSet) -> None:
        """Withdraw the consent at the bank (best effort)."""

    @abc.abstractmethod
    def list_accounts(self, tokens: TokenSet) -> list[BankAccount]:
        """Accounts the consent covers, eligible or not."""

    @abc.abstractmethod
    def fetch_transactions(
        self,
        tokens: TokenSet,
        account: BankAccount,
        date_from: datetime.date,
        date_to: datetime.date,
    ) -> Iterator[TransactionPage]:
        """Booked transactions with booking date in [date_from, date_to],
        page by page, until the bank has no more. Raises a
        :class:`BankLinkError` subclass on any failure, also halfway."""

    @abc.abstractmethod
    def fetch_balance(
        self, tokens: TokenSet, account: BankAccount
    ) -> BankBalance | None:
        """The booked balance (end of the last booking day), if available."""

    def consent_valid_until(self, tokens: TokenSet) -> datetime.date | None:
        """Last day of the consent when the bank can tell; else None and the
        framework counts :attr:`consent_days` from the consent."""
        return tokens.consent_valid_until

    # ------------------------------------------------------------ payments
    # Additive (issue #8); the data types are defined below. A provider that
    # does not override these offers no payment interface: the framework
    # then offers the file for upload in the bank's portal.

    def payment_support(self, order_type: str) -> PaymentSupport:
        """Whether and how this bank takes ``order_type`` from us."""
        return PaymentSupport(
            order_type=order_type,
            how=SUPPORT_FILE,
            explanation="This bank offers no interface for sending this order; "
            "upload the file in the bank's portal.",
            has_status=False,
        )

    def payment_consent_url(self, order_type: str, redirect_uri: str, state: str) -> str:
        """Where the user consents to sending batches of ``order_type``
        (only when :attr:`PaymentSupport.needs_consent`)."""
        raise PaymentNotSupportedError(f"{self.name} asks no separate consent for payments")

    def exchange_payment_code(self, order_type: str, code: str, redirect_uri: str) -> TokenSet:
        """Tokens of that payment consent; used for this one batch, not stored."""
        raise PaymentNotSupportedError(f"{self.name} asks no separate consent for payments")

    def submit_payment_batch(
        self, batch: PaymentBatch, tokens: TokenSet | None = None
    ) -> PaymentSubmission:
        """Send the batch; ``tokens`` is the payment consent when one is needed.
        Never retried on a lost answer: the caller must not send twice."""
        raise PaymentNotSupportedError(f"{self.name} offers no interface for this order type")

    def payment_batch_status(
        self, reference_data: Mapping[str, Any], tokens: TokenSet | None = None
    ) -> PaymentStatus:
        """The bank's current status of a batch sent earlier."""
        raise PaymentNotSupportedError(f"{self.name} offers no status for this order type")


# --------------------------------------------------------------------------
# Payment initiation (issue #8): batches of credit transfers and direct
# debits. Additive: a provider that does not override these methods offers
# no payment interface, and the framework offers the file for the bank's
# portal instead.
# --------------------------------------------------------------------------

#: Order types, as on ``account.payment.order`` (outbound / inbound).
ORDER_CREDIT_TRANSFER = "credit_transfer"
ORDER_DIRECT_DEBIT = "direct_debit"

#: How a bank takes an order type from us.
SUPPORT_API = "api"
SUPPORT_FILE = "file"

#: Our phases of a batch at the bank, from the ISO 20022 status codes.
PHASE_RECEIVED = "received"
PHASE_ACCEPTED = "accepted"
PHASE_EXECUTED = "executed"
PHASE_REJECTED = "rejected"

#: ISO 20022 ExternalPaymentTransactionStatus1Code -> our phase. PART
#: (partly accepted) counts as rejected: the order is not paid as sent.
ISO_STATUS_PHASES = {
    "RCVD": PHASE_RECEIVED,
    "PDNG": PHASE_RECEIVED,
    "ACTC": PHASE_RECEIVED,
    "PATC": PHASE_RECEIVED,
    "ACCP": PHASE_ACCEPTED,
    "ACWC": PHASE_ACCEPTED,
    "ACSP": PHASE_ACCEPTED,
    "ACFC": PHASE_ACCEPTED,
    "ACWP": PHASE_ACCEPTED,
    "ACSC": PHASE_EXECUTED,
    "ACCC": PHASE_EXECUTED,
    "RJCT": PHASE_REJECTED,
    "CANC": PHASE_REJECTED,
    "PART": PHASE_REJECTED,
}


@dataclasses.dataclass(frozen=True)
class PaymentSupport:
    """Whether and how a bank takes one order type from an accounting package."""

    order_type: str
    #: :data:`SUPPORT_API` or :data:`SUPPORT_FILE` (upload in the bank's portal).
    how: str
    #: For the user, in English (translated by the framework): what happens,
    #: or why only the file can be used.
    explanation: str = ""
    #: True when the bank wants the user's consent for this (ABN AMRO's batch
    #: scopes) before the batch is sent; the framework then sends the user to
    #: :meth:`BankProvider.payment_consent_url` first.
    needs_consent: bool = False
    #: True when the bank offers a status for the batch; otherwise it stays
    #: "received" until the batch is seen on the statement.
    has_status: bool = True
    #: Most transactions one batch may hold at this bank.
    max_transactions: int = 5000


@dataclasses.dataclass(frozen=True)
class PaymentInstruction:
    """One transaction of a batch, as it stands in the pain file."""

    end_to_end_id: str
    amount: Decimal
    currency: str
    #: Creditor (credit transfer) or debtor (direct debit).
    counterparty_name: str
    counterparty_iban: str
    counterparty_bic: str | None = None
    remittance_text: str | None = None
    structured_reference: str | None = None
    #: Direct debits only.
    mandate_id: str | None = None
    mandate_date: datetime.date | None = None
    sequence_type: str | None = None


@dataclasses.dataclass(frozen=True)
class PaymentBatch:
    """One payment or direct-debit order, ready for the bank.

    ``pain_xml`` is the file the OCA modules generated (validated against its
    XSD); ``instructions`` are read from that same file, so a bank that wants
    JSON gets exactly what the file says.
    """

    order_type: str
    #: Our idempotency key: the same key means the same submission.
    idempotency_key: str
    #: The pain message id (GrpHdr/MsgId).
    message_id: str
    #: The company's own account: debtor of a credit transfer, creditor of a
    #: direct debit.
    account_iban: str
    account_name: str
    currency: str
    total: Decimal
    requested_date: datetime.date | None
    instructions: tuple[PaymentInstruction, ...]
    pain_xml: bytes = dataclasses.field(repr=False, default=b"")
    pain_version: str = ""
    file_name: str = ""
    batch_booking: bool = True
    #: Where the bank sends the user back after approval (state included).
    redirect_uri: str = ""
    #: IP address of the user's browser, which PSD2 banks ask for.
    psu_ip_address: str | None = None

    @property
    def count(self) -> int:
        return len(self.instructions)


@dataclasses.dataclass(frozen=True)
class PaymentStatus:
    """The bank's status of a submitted batch."""

    #: ISO 20022 status code (RCVD, ACCP, ACSC, RJCT, ...), mapped from the
    #: bank's own code where the bank has its own.
    iso_status: str
    #: The bank's own status word, as it said it (``RECEIVED``, ``RJCT``...).
    bank_status: str = ""
    reason_code: str | None = None
    reason_text: str | None = None

    @property
    def phase(self) -> str:
        return ISO_STATUS_PHASES.get(self.iso_status, PHASE_RECEIVED)

    @property
    def final(self) -> bool:
        return self.phase in (PHASE_EXECUTED, PHASE_REJECTED)


@dataclasses.dataclass(frozen=True)
class PaymentSubmission:
    """What the bank answered to a submitted batch."""

    #: The bank's id of the batch, for the status and the support desk.
    bank_payment_id: str | None
    status: PaymentStatus
    #: Where the user approves the batch (the bank's page), if anywhere.
    approval_url: str | None = None
    #: Bank-specific values the status call needs later (no secrets).
    reference_data: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class PaymentNotSupportedError(BankLinkError):
    """The bank offers no interface for this order type."""


class DuplicatePaymentError(BankLinkError):
    """The bank refused the batch as one it has already received."""
