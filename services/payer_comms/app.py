"""payer_comms wiring: settings, subscriptions, the alert delivery loop and the payer
interaction sender loop (worker), and Twilio's signed webhooks (API)."""
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common import topics
from common.consumer import subscribe
from common.runtime import Context, ServiceSpec
from common.settings import CommonSettings
from services.payer_comms import delivery, handlers, store
from services.payer_comms.adapters.smtp_email import SmtpEmail
from services.payer_comms.adapters.twilio_sms import TwilioSms
from services.payer_comms.interactions import directory as payer_directory
from services.payer_comms.interactions import handlers as interaction_handlers
from services.payer_comms.interactions import mailbox, sender, webhooks


class PayerCommsSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="PAYER_COMMS_", extra="ignore", populate_by_name=True)
    service_name = "payer_comms"
    health_port: int = 9105
    # Twilio (SMS). base_url: another host speaking the Messages API (tests, a proxy); unset: Twilio.
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: str = "dev-only-token"
    twilio_from_number: str = "+15005550006"
    twilio_base_url: str | None = None
    # SMTP (e-mail)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "alerts@workqueue.local"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # Delivery: poll interval, per-round batch, per-send time-out, retries with backoff
    delivery_poll_s: float = 0.5
    delivery_batch: int = 20
    send_timeout_s: float = 15.0
    retry_base_s: float = 2.0
    retry_max_s: float = 300.0
    max_attempts: int = 6
    # Payer interactions. public_url: where Twilio reaches this service's API (status
    # callbacks and the signature check use it); payer_email_sender: the From of e-mails to
    # payers; record_calls: ask Twilio to record bridged calls (off: no recording URL kept);
    # inbound_default_org: the org whose triage gets an inbound item from a number or
    # address no org has reached out to.
    api_port: int = 8005
    public_url: str = "http://127.0.0.1:8005"
    payer_email_sender: str = "billing@workqueue.local"
    record_calls: bool = False
    inbound_default_org: str = ""
    interaction_poll_s: float = 0.3
    # Inbound e-mail to the payer-facing address (an MX or a relay forwards to it); 0: off.
    inbound_smtp_host: str = "127.0.0.1"
    inbound_smtp_port: int = 2525
    inbound_email_max_bytes: int = 2_000_000


def senders(s: PayerCommsSettings) -> delivery.Senders:
    return delivery.Senders(
        sms=TwilioSms(account_sid=s.twilio_account_sid, auth_token=s.twilio_auth_token,
                      from_number=s.twilio_from_number, base_url=s.twilio_base_url,
                      timeout=s.send_timeout_s),
        email=SmtpEmail(host=s.smtp_host, port=s.smtp_port, sender=s.smtp_sender,
                        username=s.smtp_username, password=s.smtp_password,
                        starttls=s.smtp_starttls, timeout=s.send_timeout_s))


def retry_policy(s: PayerCommsSettings) -> delivery.Retry:
    return delivery.Retry(base_s=s.retry_base_s, max_s=s.retry_max_s, max_attempts=s.max_attempts)


def outbound(s: PayerCommsSettings) -> sender.Outbound:
    twilio = senders(s).sms
    return sender.Outbound(
        dialer=twilio, sms=twilio, public_url=s.public_url.rstrip("/"), record_calls=s.record_calls,
        email=SmtpEmail(host=s.smtp_host, port=s.smtp_port, sender=s.payer_email_sender,
                        username=s.smtp_username, password=s.smtp_password,
                        starttls=s.smtp_starttls, timeout=s.send_timeout_s))


async def send_interactions(ctx: Context) -> None:
    """The payer interaction sender loop."""
    s = ctx.settings
    await sender.run(ctx, outbound(s), retry_policy(s), poll_s=s.interaction_poll_s,
                     batch=s.delivery_batch, timeout=s.send_timeout_s)


async def deliver_alerts(ctx: Context) -> None:
    """The alert delivery loop."""
    s = ctx.settings
    await delivery.run(ctx, senders(s), retry_policy(s), poll_s=s.delivery_poll_s,
                       batch=s.delivery_batch, timeout=s.send_timeout_s)


SERVICE = ServiceSpec(
    name="payer_comms",
    settings_cls=PayerCommsSettings,
    metadata=store.metadata,
    versions=Path(__file__).parent / "migrations" / "versions",
    subscriptions=[subscribe(topics.ALERT_REQUESTS, handlers.HANDLERS),
                   subscribe(topics.PAYER_REQUESTS, interaction_handlers.HANDLERS),
                   subscribe(topics.DIRECTORY, handlers.DIRECTORY_HANDLERS)],
    timers=[deliver_alerts, send_interactions, mailbox.serve],
    router=webhooks.router,
    commands={"seed-payers": (payer_directory.configure, payer_directory.run)},
)
