"""librdkafka's mock Kafka cluster in a process of its own (``python kafka_mock.py``).

The mock cluster lives inside the client that creates it; this script creates one
(``test.mock.num.brokers``), prints its bootstrap servers on one line, and keeps it up
until stdin closes. The relay under test and the test's consumer connect to it as to any
Kafka cluster, over the Kafka protocol. A test can SIGSTOP this process to make every
broker stop answering (a broker outage mid-batch) and SIGCONT it to bring them back.
"""

from __future__ import annotations

import sys

from confluent_kafka import Producer


def main() -> None:
    holder = Producer({"test.mock.num.brokers": 3, "log_level": 0})
    metadata = holder.list_topics(timeout=10)
    servers = ",".join(f"{b.host}:{b.port}" for b in metadata.brokers.values())
    print(servers, flush=True)
    sys.stdin.read()  # until the test closes our stdin (or kills us)


if __name__ == "__main__":
    main()
