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
OUTBOX_PENDING = Gauge("wq_outbox_pending", "Rows waiting in the outbox at the last relay pass",
                       ["service"])
RETRIES = Counter("wq_transient_retries_total", "Batches retried after a transient error",
                  ["service", "topic"])
