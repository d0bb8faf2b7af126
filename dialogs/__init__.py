"""The conversation, transport-agnostic: intents, slots, forms, repair, replies."""
