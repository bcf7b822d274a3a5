"""Getting messages in and out, in order and once: inbox, outbox, conversations, jobs, worker."""
