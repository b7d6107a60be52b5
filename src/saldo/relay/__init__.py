"""The outbox relay: committed events, in commit order, to NATS JetStream and Kafka."""
