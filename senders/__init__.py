"""Built-in delivery channels: outbox, ses, smtp."""
