"""Prometheus metrics every service exposes at /metrics, labelled by service."""
from prometheus_client import Counter, Gauge, Histogram

EVENTS_IN = Counter(
    "wq_events_consumed_total", "Events read from the bus, by outcome",
    ["service", "topic", "event_type", "outcome"],  # handled, duplicate, ignored, dead_lettered
)
EVENTS_OUT = Counter("wq_events_published_total", "Events published by the outbox relay",
                     ["service", "topic"])
DEAD_LETTERS = Counter("wq_dead_letters_total", "Events sent to a dead-letter topic",
                       ["service", "topic", "stage"])  # decode, handle, transient
HANDLER_SECONDS = Histogram(
    "wq_handler_seconds", "Time spent in one event handler",
    ["service", "event_type"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
BATCH_SECONDS = Histogram("wq_batch_seconds", "One consumed batch: decode, handle, commit",
                          ["service", "topic"])
OUTBOX_PENDING = Gauge("wq_outbox_pending", "Events waiting in the outbox", ["service"])
OUTBOX_OLDEST_S = Gauge("wq_outbox_oldest_age_seconds",
                        "How long the oldest event in the outbox has waited (0: empty)", ["service"])
OUTBOX_ERRORS = Counter("wq_outbox_relay_errors_total",
                        "Relay passes that failed (broker or database away); they are retried",
                        ["service"])
OUTBOX_DEAD = Counter("wq_outbox_dead_letters_total",
                      "Events the broker refuses for good (too large, invalid), set aside in "
                      "outbox_dead instead of blocking the events behind them", ["service", "topic"])
TIMER_ERRORS = Counter("wq_timer_errors_total", "Rounds of a worker's periodic work that failed",
                       ["timer"])
BROKER_UP = Gauge("wq_broker_up", "1 when the broker answered this process's last check")
RETRIES = Counter("wq_transient_retries_total", "Batches retried after a transient error",
                  ["service", "topic"])
