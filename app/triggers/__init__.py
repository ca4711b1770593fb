"""What starts runs besides a direct API call: schedules, inbound webhooks, events."""
