"""payer_comms wiring: settings, subscriptions and the alert delivery loop (health server
only; no public API)."""
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
    timers=[deliver_alerts],
    commands={"seed-payers": (payer_directory.configure, payer_directory.run)},
)
